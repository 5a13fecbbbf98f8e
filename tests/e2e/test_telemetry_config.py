"""`[telemetry]`: validated (loopback only for /metrics, no credentials in the OTLP URL), user-only
(an untrusted workspace file and the editor's settings cannot set it), and said clearly when the
optional packages are not installed (the real server and `tierline doctor`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.bench import bench, ledger, oracle
from tests.helpers.common import FIXTURES
from tests.helpers.config import user_env
from tests.helpers.lsp import SIMPLE_CURSOR, open_doc
from tests.helpers.ports import free_port
from tests.helpers.telemetry import Receiver
from tierline.commands.demo import SIMPLE_PY
from tierline.config import ConfigError, deep_merge, load_layers, parse_config
from tierline.config.model import DEFAULTS
from tierline.config.telemetry import not_installed_message
from tierline.devtools.simulator import SimulatorThread, toml_text


def telemetry(**keys: object):
    return parse_config(deep_merge(DEFAULTS, {"telemetry": keys}), "/home/u/config.toml").telemetry


@pytest.mark.parametrize(
    ("given", "host", "port"),
    [("127.0.0.1:9464", "127.0.0.1", 9464), ("[::1]:9100", "::1", 9100), ("localhost:9464", "127.0.0.1", 9464)],
)
def test_prometheus_on_loopback_is_taken(given, host, port):
    from tierline.config.telemetry import loopback_address

    assert telemetry(prometheus=given).prometheus == given
    assert loopback_address("x", given) == (host, port)


@pytest.mark.parametrize("given", ["0.0.0.0:9464", "192.168.1.20:9464", "metrics.example.com:9464", "[::]:9464"])
def test_prometheus_off_loopback_is_refused_with_why(given):
    with pytest.raises(ConfigError) as refused:
        telemetry(prometheus=given)
    assert str(refused.value) == (
        f"/home/u/config.toml: telemetry.prometheus: must be a loopback address (127.0.0.1, ::1 or localhost), "
        f"got {given!r}: /metrics answers anyone who can reach it; let the machine's own agent scrape it, or put "
        "a proxy with access control in front"
    )


@pytest.mark.parametrize("given", ["9464", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:port"])
def test_prometheus_without_a_port_is_refused(given):
    with pytest.raises(ConfigError, match=r'telemetry.prometheus: must be "HOST:PORT" on loopback'):
        telemetry(prometheus=given)


def test_the_otlp_endpoint_is_an_http_base_url_without_credentials():
    assert telemetry(otlp_endpoint="https://otel.corp.example:4318/").otlp_endpoint == "https://otel.corp.example:4318"
    for bad in ("otel:4318", "ftp://otel/", "http://", "http://otel:99999", "http://otel:4318/?x=1"):
        with pytest.raises(ConfigError, match="telemetry.otlp_endpoint: must be"):
            telemetry(otlp_endpoint=bad)
    with pytest.raises(ConfigError) as refused:
        telemetry(otlp_endpoint="https://team:hunter2-s3cret@otel.corp.example:4318")
    assert "hunter2" not in str(refused.value) and "OTEL_EXPORTER_OTLP_HEADERS" in str(refused.value)
    with pytest.raises(ConfigError, match="unknown key"):
        telemetry(endpoint="http://127.0.0.1:4318")
    with pytest.raises(ConfigError, match="must be a string"):
        telemetry(prometheus=9464)


HOSTILE = {"telemetry": {"otlp_endpoint": "https://collector.evil.example", "prometheus": "127.0.0.1:9464"}}


@pytest.mark.parametrize("layer", ["untrusted workspace file", "editor settings"])
def test_a_layer_the_user_did_not_write_cannot_set_or_change_telemetry(tmp_path: Path, layer: str):
    user = {"telemetry": {"otlp_endpoint": "http://127.0.0.1:4318"}}
    env = user_env(tmp_path, user)
    if layer == "untrusted workspace file":
        (tmp_path / ".tierline.toml").write_text(toml_text(HOSTILE))
        layers = load_layers(tmp_path, env)
    else:
        layers = load_layers(None, env)
        layers.lsp_settings = HOSTILE
    config = layers.build()

    assert (config.telemetry.otlp_endpoint, config.telemetry.prometheus) == ("http://127.0.0.1:4318", "")
    (notice,) = config.notices
    assert "ignored telemetry.otlp_endpoint, telemetry.prometheus" in notice and "evil" not in notice


def test_a_trusted_workspace_file_is_the_users_and_may_set_telemetry(tmp_path: Path):
    from tierline.config.trust import TrustStore

    (tmp_path / ".tierline.toml").write_text(toml_text(HOSTILE))
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "TIERLINE_CONFIG": "/dev/null"}
    TrustStore(env=env).trust(tmp_path / ".tierline.toml")
    config = load_layers(tmp_path, env).build()
    assert config.telemetry.otlp_endpoint == "https://collector.evil.example"


async def test_the_editors_settings_and_an_untrusted_repository_export_nothing(start_editor, tmp_path):
    """Over the real server: a repository's `.tierline.toml` names a collector, the editor's settings
    open /metrics; neither is used, and the notices say so."""
    collector = Receiver()
    collector.start()
    port = free_port()
    try:
        (tmp_path / ".tierline.toml").write_text(toml_text({"telemetry": {"otlp_endpoint": collector.url}}))
        editor = await start_editor(
            initialization_options={"tierline": {"telemetry": {"prometheus": f"127.0.0.1:{port}"}}},
            workspace_folders=[tmp_path],
        )
        uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
        completion = await editor.complete(uri, *SIMPLE_CURSOR)
        assert completion.text
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/metrics")
        await editor.client.shutdown_session()
        assert collector.bodies == []
        assert any("not trusted" in m and "ignored telemetry.otlp_endpoint" in m for m in editor.messages)
        assert any("editor's settings" in m and "ignored telemetry.prometheus" in m for m in editor.messages)
    finally:
        collector.stop()


HIDE_PACKAGES = """
import sys

class HideTelemetryPackages:
    # As if the `telemetry` extra were not installed.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("opentelemetry", "prometheus_client"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, HideTelemetryPackages())
"""
MISSING = ["opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http", "prometheus-client"]


def without_packages(tmp_path: Path) -> dict[str, str]:
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(HIDE_PACKAGES)
    return {"PYTHONPATH": os.pathsep.join([str(hide), os.environ.get("PYTHONPATH", "")])}


async def test_configured_but_not_installed_is_said_once_and_completions_go_on(start_editor, tmp_path):
    port = free_port()
    editor = await start_editor(
        {"telemetry": {"otlp_endpoint": "http://127.0.0.1:4318", "prometheus": f"127.0.0.1:{port}"}},
        env=without_packages(tmp_path),
    )
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    first = await editor.complete(uri, *SIMPLE_CURSOR)
    editor.type_text(uri, *SIMPLE_CURSOR, "x")
    second = await editor.complete(uri, SIMPLE_CURSOR[0], SIMPLE_CURSOR[1] + 1)

    assert first.text and second.text is not None
    told = [m for m in editor.messages if "[telemetry]" in m]
    assert told == [
        "tierline: [telemetry] is configured but opentelemetry-sdk, opentelemetry-exporter-otlp-proto-http, "
        "prometheus-client are not installed, so nothing is exported. Install them where tierline runs: pip install "
        "opentelemetry-sdk opentelemetry-exporter-otlp-proto-http prometheus-client (or, in tierline's checkout: "
        "pip install '.[telemetry]')"
    ]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens


def test_doctor_says_when_telemetry_is_configured_but_not_installed(tmp_path: Path):
    (tmp_path / "t.toml").write_text(toml_text({"telemetry": {"prometheus": "127.0.0.1:9464"}}))
    env = {**os.environ, **without_packages(tmp_path), "TIERLINE_CONFIG": str(tmp_path / "t.toml")}
    done = subprocess.run(
        [sys.executable, "-m", "tierline", "doctor"], env=env, capture_output=True, text=True, check=False
    )
    line = next(line for line in done.stdout.splitlines() if "telemetry" in line)
    assert line == f"[FAIL] telemetry: /metrics on 127.0.0.1:9464: {not_installed_message(['prometheus-client'])}"
    assert done.returncode == 1


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    with SimulatorThread() as thread:
        yield thread


def test_the_cli_commands_that_run_the_engine_export_nothing(sim, tmp_path: Path):
    """`tierline bench` (real calls, but not editor usage) and `tierline score` never export nor
    open /metrics, whatever `[telemetry]` says: only the editor's server does."""
    collector = Receiver()
    collector.start()
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            telemetry = {"telemetry": {"otlp_endpoint": collector.url, "prometheus": f"127.0.0.1:{port}"}}
            oracle(sim, FIXTURES)
            run = bench(sim, tmp_path, str(FIXTURES), "--positions", "3", "--yes", "--json", overrides=telemetry)
            assert run.returncode == 0, run.stderr
            assert ledger(tmp_path) and collector.bodies == []
            assert "/metrics" not in run.stderr and "telemetry" not in run.stderr
            env = {**os.environ, "TIERLINE_CONFIG": str(tmp_path / "tierline.toml")}
            score = subprocess.run(
                [sys.executable, "-m", "tierline", "score", f"{FIXTURES / 'python' / 'httpx_client.py'}:1:1"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert "/metrics" not in score.stderr and "telemetry" not in score.stderr
    finally:
        collector.stop()
