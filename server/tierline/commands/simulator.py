"""`tierline simulator`: the provider simulator on 127.0.0.1, for trying tierline without a key."""

from __future__ import annotations


def run_simulator(argv: list[str]) -> int:
    from tierline.devtools import simulator

    return simulator.main(argv)
