"""The VS Code end-to-end harness: code-server 4.139.1 driven by headless Chromium (setup.sh
installs it), one simulator beside it, the .vsix installed into a fresh profile. `code_server_session`
runs them for the whole editors' run (the `vscode` fixture, conftest.py); everything it starts is
killed at the end by process group (and, belt and braces, every process that carries the run's
marker in its environment)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
EXT_DIR = ROOT / "editors" / "vscode"
E2E_DIR = Path(os.environ.get("TIERLINE_E2E_DIR", ROOT / ".e2e"))
SETUP_ENV = E2E_DIR / "vscode-setup.env"
OUTPUT = ROOT / "test-output" / "vscode"
EXTENSION_ID = "tierline.tierline"


def e2e_tools() -> dict[str, str]:
    if not SETUP_ENV.is_file():
        pytest.fail(
            f"The VS Code end-to-end tools are not installed ({SETUP_ENV} is missing).\n"
            "Run once (as root, or with sudo for apt):  bash tests/editors/vscode/setup.sh",
            pytrace=False,
        )
    values = {}
    for line in SETUP_ENV.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key] = value
    missing = [
        values.get(k, k)
        for k in ("NODE", "CODE_SERVER", "PLAYWRIGHT_CORE", "CHROMIUM")
        if not Path(values.get(k, "")).exists()
    ]
    if missing:
        pytest.fail(
            f"The VS Code end-to-end tools are incomplete (missing: {', '.join(missing)}).\n"
            "Run again:  bash tests/editors/vscode/setup.sh",
            pytrace=False,
        )
    return values


def _poll(what: str, probe, timeout: float, every: float = 0.1) -> Any:
    """Polls `probe` until it returns something truthy; fails with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)  # polling interval, not synchronisation


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _processes_with_marker(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if f"TIERLINE_E2E_RUN={marker}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _kill_group(proc: subprocess.Popen, marker: str | None = None) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left (group and marked processes)."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    if pgid is not None:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    if pgid is not None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if marker:
        for pid in _processes_with_marker(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    proc.wait(timeout=10)


def _newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for p in paths:
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        newest = max([newest] + [f.stat().st_mtime for f in files])
    return newest


def with_node(setup: dict[str, str]) -> dict[str, str]:
    """This environment with the installed Node first on PATH."""
    return dict(os.environ, PATH=os.pathsep.join([str(Path(setup["NODE"]).parent), os.environ.get("PATH", "")]))


def npm(setup: dict[str, str], env: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`npm ARGS` in editors/vscode, its output captured."""
    return subprocess.run([setup["NPM"], *args], cwd=EXT_DIR, env=env, capture_output=True, text=True, timeout=timeout)


def ensure_vsix(setup: dict[str, str], env: dict[str, str]) -> Path:
    """Rebuilds the .vsix when the extension's sources changed since setup.sh packaged it."""
    vsix = Path(setup["VSIX"])
    sources = [EXT_DIR / "src", EXT_DIR / "package.json", EXT_DIR / "esbuild.mjs", EXT_DIR / "README.md"]
    if not vsix.is_file() or _newest_mtime(sources) > vsix.stat().st_mtime:
        build = npm(setup, env, "run", "--silent", "package", timeout=300)
        assert build.returncode == 0, f"npm run package failed:\n{build.stdout}\n{build.stderr}"
    return vsix


def _start_simulator(tmp: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    config = tmp / "simulator.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tierline.devtools.simulator", "--port", "0", "--tagged", "--write-config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()

    def url() -> str | None:
        for line in lines:
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                return m.group(1)
        if proc.poll() is not None:
            raise AssertionError(f"the simulator exited with {proc.returncode}: {''.join(lines)}")
        return None

    return proc, _poll("the simulator to listen", url, 30), config


def make_workspace(tmp: Path, name: str, sim_config: Path, thresholds: str | None) -> Path:
    ws = tmp / name
    shutil.copytree(HERE / "workspace", ws)
    text = sim_config.read_text()
    if thresholds is not None:
        text, n = re.subn(r"(?m)^thresholds = .*$", f"thresholds = {thresholds}", text)
        assert n == 1, f"no thresholds line in the simulator's config:\n{text}"
    (ws / ".tierline.toml").write_text(text)
    # Trusted as a user trusts it, with `tierline trust` (its [[models]] point at the simulator): the
    # server ignores an editor's claim of trust. The store is the one the vscode fixture's env names.
    trusted = subprocess.run(
        [sys.executable, "-m", "tierline", "trust", str(ws)],
        env={**os.environ, "XDG_STATE_HOME": str(tmp / "xdg-state")},
        capture_output=True,
        text=True,
    )
    assert trusted.returncode == 0, trusted.stderr
    return ws


@contextlib.contextmanager
def code_server_session(tmp: Path) -> Iterator[dict[str, Any]]:
    """code-server with the extension and a simulator, for the `with` block: what the tests need."""
    setup = e2e_tools()
    marker = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIERLINE_", "VSCODE_", "ELECTRON_"))}
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        PATH=os.pathsep.join([venv_bin, str(Path(setup["NODE"]).parent), env.get("PATH", "")]),
        npm_config_nodedir=setup["NODE_WHEEL_DIR"],
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1",
        XDG_CONFIG_HOME=str(tmp / "xdg-config"),
        XDG_CACHE_HOME=str(tmp / "xdg-cache"),
        XDG_STATE_HOME=str(tmp / "xdg-state"),
        XDG_DATA_HOME=str(tmp / "xdg-data"),
        TIERLINE_E2E_RUN=marker,
    )
    server_exe = shutil.which("tierline", path=env["PATH"])
    assert server_exe, f"no `tierline` console script in {venv_bin}: pip install -e . first"

    vsix = ensure_vsix(setup, env)
    sim, sim_url, sim_config = _start_simulator(tmp, env)
    # code-server's environment reaches the extension host, hence the suite (suite/index.js).
    env.update(
        TIERLINE_E2E_RESULTS=str(tmp / "host-results.json"),
        TIERLINE_E2E_SIM_URL=sim_url,
        TIERLINE_E2E_SERVER=server_exe,
    )
    code_server = None
    log_path = tmp / "code-server.log"
    try:
        user_data, extensions = tmp / "user-data", tmp / "extensions"
        (user_data / "User").mkdir(parents=True)
        (user_data / "User" / "settings.json").write_text(
            json.dumps(
                {
                    "workbench.startupEditor": "none",
                    "workbench.tips.enabled": False,
                    "workbench.enableExperiments": False,
                    "security.workspace.trust.enabled": False,
                    "telemetry.telemetryLevel": "off",
                    "extensions.autoCheckUpdates": False,
                    "extensions.autoUpdate": False,
                    "update.mode": "none",
                    "git.enabled": False,
                    "editor.inlineSuggest.enabled": True,
                    "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
                    "editor.suggestOnTriggerCharacters": False,
                    "chat.disableAIFeatures": True,
                    "workbench.secondarySideBar.defaultVisibility": "hidden",
                },
                indent=2,
            )
        )
        install = subprocess.run(
            [
                setup["CODE_SERVER"],
                "--user-data-dir",
                str(user_data),
                "--extensions-dir",
                str(extensions),
                "--install-extension",
                str(vsix),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert install.returncode == 0, f"installing {vsix} failed:\n{install.stdout}\n{install.stderr}"
        installed = sorted(extensions.glob(f"{EXTENSION_ID}-*"))
        assert installed, f"{vsix} did not install into {extensions}:\n{install.stdout}"

        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = log_path.open("w")
        code_server = subprocess.Popen(
            [
                setup["CODE_SERVER"],
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--auth",
                "none",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--user-data-dir",
                str(user_data),
                "--extensions-dir",
                str(extensions),
                "--vscode-option",
                "enable-smoke-test-driver",
                # The extension host gets exactly this environment (PATH with the venv's `tierline`),
                # not the one of a login shell that VS Code would otherwise resolve and merge in.
                "--vscode-option",
                "force-disable-user-env",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def up() -> bool:
            if code_server.poll() is not None:
                raise AssertionError(
                    f"code-server exited with {code_server.returncode}:\n{log_path.read_text()[-3000:]}"
                )
            return _healthy(f"{url}/healthz")

        _poll("code-server to answer /healthz", up, 60)
        node_env = dict(
            env,
            TIERLINE_E2E_URL=url,
            TIERLINE_PLAYWRIGHT_CORE=setup["PLAYWRIGHT_CORE"],
            TIERLINE_CHROMIUM=setup["CHROMIUM"],
            TIERLINE_E2E_OUTPUT=str(OUTPUT),
        )
        yield {
            "setup": setup,
            "tmp": tmp,
            "url": url,
            "env": env,
            "node_env": node_env,
            "sim_url": sim_url,
            "sim_config": sim_config,
            "extension_dir": installed[-1],
            "server_exe": server_exe,
            "log": log_path,
        }
    finally:
        if code_server is not None:
            _kill_group(code_server, marker)
        _kill_group(sim, marker)
        leftovers = _processes_with_marker(marker)
        assert not leftovers, f"processes left running: {leftovers}"


def run_node(
    vscode: dict[str, Any], script: str, extra_env: dict[str, str], timeout: float
) -> tuple[dict[str, Any], str]:
    proc = subprocess.run(
        [vscode["setup"]["NODE"], str(HERE / script)],
        env=dict(vscode["node_env"], **extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = proc.stdout + proc.stderr
    results = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert results, f"{script} printed no result (exit {proc.returncode}):\n{output[-4000:]}"
    return json.loads(results[-1][len("RESULT ") :]), output
