"""The `vscode` fixture: a code-server, the extension and a simulator per test module. Per module,
not per run: each module counts what its own tests accepted in a ledger of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from vscode_harness import code_server_session


@pytest.fixture(scope="module")
def vscode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with code_server_session(tmp_path_factory.mktemp("vscode")) as session:
        yield session
