"""`tierline bench`'s arguments (light: the CLI builds its parser before any command runs)."""

from __future__ import annotations

import argparse

DEFAULT_POSITIONS = 200


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", metavar="PATH", help="the repository (default: the current directory)")
    parser.add_argument(
        "--positions", type=int, metavar="N", help=f"positions to sample (default {DEFAULT_POSITIONS}; a suite: all)"
    )
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="the sample's seed (default 1)")
    parser.add_argument("--models", metavar="NAME,...", help="only these models (routed and all-premium are added)")
    parser.add_argument("--tiers", action="store_true", help="only the model each tier would pick")
    parser.add_argument("--suite", metavar="FILE.jsonl", help="FIM cases (prefix, suffix, expected, language) instead")
    parser.add_argument("--max-usd", type=float, metavar="X", help="hard stop: never spend more than X dollars")
    parser.add_argument("--yes", action="store_true", help="do not ask before paid calls")
    parser.add_argument("--resume", action="store_true", help="go on from an interrupted run with the same arguments")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--html", metavar="FILE", help="also write one self-contained HTML page")
