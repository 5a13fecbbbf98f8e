"""The provider harness: the real pipeline (CompletionEngine) against the simulator's wire scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers.common import SECRET
from tierline.accounting.books import Books
from tierline.accounting.ledger import CallRow
from tierline.analysis import languages
from tierline.analysis.documents import Document
from tierline.completion.collaborators import collaborators
from tierline.completion.pipeline import CompletionEngine
from tierline.completion.request import CursorRequest, Routed
from tierline.config import Config, parse_config
from tierline.devtools.simulator import Simulator

SOURCE = "def total_of(values):\n    "


# USD per million tokens: round numbers so each expected cost is tokens x price, exactly.
PRICES = {"input_per_mtok": 2.0, "output_per_mtok": 10.0, "cached_input_per_mtok": 0.5}


ANSWER = "total = compute(values)"


def wire_url(simulator: Simulator, scenario: str) -> str:
    return simulator.base_url.removesuffix("/v1") + f"/_wire/{scenario}/v1"


def model(simulator: Simulator, name: str, scenario: str, **keys: Any) -> dict[str, Any]:
    return {
        "name": name,
        "tier": "cheap",
        "base_url": wire_url(simulator, scenario),
        "model": "test-model",
        "api_key_env": "TEST_KEY",
        **PRICES,
        **keys,
    }


def config(tmp_path: Path, *models: dict[str, Any]) -> Config:
    return parse_config(
        {
            "models": list(models),
            "cache": {"dir": str(tmp_path / "cache")},
            "ledger": {"dir": str(tmp_path / "state")},
            "completion": {"debounce_ms": 0},
        }
    )


class LedgerRows(Books):
    """The real books, keeping each ledger row the engine records."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.rows: list[CallRow] = []

    def record(self, row: CallRow) -> None:
        self.rows.append(row)
        super().record(row)


class Harness:
    """The engine with what a user would see: messages, ledger charges, answers."""

    def __init__(self, cfg: Config, env: dict[str, str] | None = None):
        self.messages: list[tuple[str, str]] = []
        env = env or {"TEST_KEY": SECRET}
        books = LedgerRows(cfg, self._tell, env)
        self.charges = books.rows  # the ledger's rows, as the engine records them
        given = collaborators(cfg, env, self._tell, books=books)
        self.engine = CompletionEngine(cfg, env=env, notify_user=self._tell, collaborators=given)
        self.version = 0

    def _tell(self, level: str, text: str) -> None:
        self.messages.append((level, text))

    async def keystroke(self, text: str = SOURCE) -> Routed:
        """A new document version (so the cache cannot answer) and a request at its end."""
        self.version += 1
        source = text.replace("values)", f"values{self.version})", 1).encode()
        document = Document("file:///t.py", "python", self.version, source, parser=languages.parser_for("python"))
        self.last_document = document
        return await self.engine.complete(CursorRequest(document, len(source)))

    async def close(self) -> None:
        await self.engine.aclose()


def calls(simulator: Simulator, scenario: str) -> list[dict[str, Any]]:
    return [r for r in simulator.requests if r.get("wire") == scenario]
