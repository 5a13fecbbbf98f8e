"""LiteLLM's proxy from its own venv (.litellm/venv), started on a free port on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.common import ROOT
from tests.helpers.ports import free_port

STARTUP_S = 120.0


LITELLM = ROOT / ".litellm" / "venv" / "bin" / "litellm"


@contextlib.contextmanager
def start_proxy(directory: Path, config_text: str) -> Iterator[str]:
    """LiteLLM's proxy on 127.0.0.1 with `config_text` (in `directory`, its working directory);
    its root URL while the block runs, then stopped by its process id."""
    (directory / "config.yaml").write_text(config_text)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith("_PROXY") and not k.endswith("_proxy")},
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # never fetch the price list
        "LITELLM_TELEMETRY": "False",
        "NO_DOCS": "True",
    }
    log = (directory / "proxy.log").open("wb")
    process = subprocess.Popen(
        [str(LITELLM), "--config", str(directory / "config.yaml"), "--host", "127.0.0.1", "--port", str(port)],
        cwd=directory,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:  # readiness: the proxy answers its liveness probe
            if process.poll() is not None:
                pytest.fail(f"LiteLLM's proxy exited: {(directory / 'proxy.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/health/liveliness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("LiteLLM's proxy did not start within 120 s")
            time.sleep(0.25)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
