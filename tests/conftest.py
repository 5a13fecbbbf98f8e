"""Shared fixtures: the real simulator on 127.0.0.1 and the real server over stdio (pytest-lsp)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig

from tests.helpers.common import ROOT, editor_config
from tests.helpers.demo import run_demo_json
from tests.helpers.forkserver import tierline_command
from tests.helpers.redis_server import redis_server  # noqa: F401 - a fixture: a real redis-server of the test's own
from tierline.devtools.driver import EditorSession, initialize_params
from tierline.devtools.simulator import Simulator, write_toml

# Tests may run side by side (pytest-xdist: `-n 4 --dist loadgroup`, docs/testing.md). Each test has
# its own tmp_path, XDG dirs and ports; what lives outside them is shared, so the tests that use it
# run on one worker, one after another: the VS Code extension's build output (dist-test/, the
# .vsix, code-server and its profile) and the Neovim suite's plugin checkout.
SHARED_GROUPS = {"tests/editors/vscode/": "vscode", "tests/editors/nvim/": "nvim"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (its own hook of the same name)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = item.path.relative_to(ROOT).as_posix()
        for prefix, group in SHARED_GROUPS.items():
            if where.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's real config, cache or ledger."""
    for variable, name in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state")):
        monkeypatch.setenv(variable, str(tmp_path / "xdg" / name))
    monkeypatch.delenv("TIERLINE_CONFIG", raising=False)


@pytest_asyncio.fixture
async def simulator() -> AsyncIterator[Simulator]:
    sim = Simulator()
    await sim.start()
    yield sim
    await sim.stop()


StartEditor = Callable[..., Awaitable[EditorSession]]


@pytest_asyncio.fixture
async def start_editor(simulator: Simulator, tmp_path: Path) -> AsyncIterator[StartEditor]:
    """Start `tierline serve` with a config pointing at the simulator; returns an EditorSession."""
    sessions: list[EditorSession] = []

    async def start(
        overrides: dict[str, Any] | None = None,
        *,
        encoding: str = "utf-16",
        env: dict[str, str] | None = None,
        initialization_options: Any = None,
        config_text: str | None = None,
        workspace_folders: list[Path] | None = None,
    ) -> EditorSession:
        config_path = tmp_path / f"tierline-{len(sessions)}.toml"
        if config_text is not None:
            config_path.write_text(config_text)
        else:
            write_toml(editor_config(simulator, tmp_path, overrides), config_path)
        server_env = {**os.environ, "TIERLINE_CONFIG": str(config_path), **(env or {})}
        log_file = tmp_path / f"server-{len(sessions)}.log"
        command = tierline_command("serve", "--log-file", str(log_file), "--verbose")
        client = await ClientServerConfig(server_command=command, server_env=server_env).start()
        session = EditorSession.attach(client)
        session.log_file = log_file  # type: ignore[attr-defined]
        params = initialize_params(encoding, initialization_options, tmp_path.as_uri())
        if workspace_folders is not None:
            params.workspace_folders = [types.WorkspaceFolder(f.as_uri(), f.name) for f in workspace_folders]
        await client.initialize_session(params)
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        try:
            await session.client.shutdown_session()
        except RuntimeError:
            pass  # the test already shut this one down
        finally:
            await session.client.stop()


@pytest.fixture(params=["local", "redis"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each budget store test runs on both stores: the local file and a redis-server of its own."""
    if request.param == "local":
        return "local"
    return str(request.getfixturevalue("redis_server").url)


@pytest_asyncio.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Makes a Harness (the engine with what a user would see) per call; closes them all after the test."""
    # Imported here, not at the top: conftest loads before every test, and a mutant whose engine
    # cannot even be imported (an import cycle) must fail the tests that check it, not the load.
    from tests.helpers.providers import Harness, config

    made: list[Harness] = []

    def make(*models: dict[str, Any]) -> Harness:
        made.append(Harness(config(tmp_path, *models)))
        return made[-1]

    yield make
    for h in made:
        await h.close()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real `tierline demo --json` per worker; its users are in tests.helpers.demo.DEMO_GROUP."""
    return run_demo_json(tmp_path_factory.mktemp("newcomer"))
