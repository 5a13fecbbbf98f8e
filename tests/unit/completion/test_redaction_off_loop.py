"""A large window is redacted in a worker thread: while it runs, the event loop is free (the LSP
server keeps reading edits and answering), and the secret still never leaves the machine."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.providers import SECRET, calls, model
from tierline.analysis import languages
from tierline.analysis.documents import Document
from tierline.completion.pipeline import CompletionEngine
from tierline.completion.request import CursorRequest
from tierline.config.loading import parse_config
from tierline.devtools.simulator import Simulator
from tierline.privacy import redaction

pytestmark = pytest.mark.asyncio

TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" + "k1L2m3N4o5P6q7R8"


def engine(simulator: Simulator, tmp_path: Path, prefix_chars: int) -> CompletionEngine:
    config = parse_config(
        {
            "models": [model(simulator, "m1", "openai-chat")],
            "cache": {"dir": str(tmp_path / "cache")},
            "ledger": {"dir": str(tmp_path / "state")},
            "completion": {"debounce_ms": 0, "prefix_chars": prefix_chars, "suffix_chars": 1000},
        }
    )
    return CompletionEngine(config, env={"TEST_KEY": SECRET}, notify_user=lambda level, text: None)


def source() -> bytes:
    lines = [f"def f{i}(values):\n    return sum(v * {i} for v in values)\n" for i in range(1200)]
    return ("".join(lines) + f'TOKEN = "{TOKEN}"\n\ndef total_of(values):\n    ').encode()


async def test_a_large_window_is_redacted_while_the_event_loop_stays_free(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, loop_free = threading.Event(), threading.Event()
    seen: list[tuple[bool, bool]] = []  # (on the event loop's thread, the loop answered meanwhile)
    loop_thread = threading.current_thread()
    real = redaction._redact

    def watched(text: str, into: Any, config_file: bool = False) -> Any:
        if len(text) >= redaction.OFF_LOOP_CHARS:
            started.set()
            # Only a free event loop can set this: on the loop's own thread it never comes.
            seen.append((threading.current_thread() is loop_thread, loop_free.wait(10)))
        return real(text, into, config_file)

    monkeypatch.setattr(redaction, "_redact", watched)
    completions = engine(simulator, tmp_path, prefix_chars=100_000)
    data = source()
    assert len(data) > redaction.OFF_LOOP_CHARS
    document = Document("file:///big.py", "python", 1, data, parser=languages.parser_for("python"))
    try:
        task = asyncio.ensure_future(completions.complete(CursorRequest(document, len(data))))
        assert await asyncio.to_thread(started.wait, 30)
        loop_free.set()  # the loop runs this while the window is being redacted
        routed = await task
    finally:
        await completions.aclose()
    assert seen == [(False, True)]
    assert routed.text is not None
    (sent,) = calls(simulator, "openai-chat")
    prompt = repr(sent["body"])
    assert TOKEN not in prompt and redaction.PLACEHOLDER_PREFIX in prompt  # the secret never left


async def test_the_default_window_is_redacted_inline(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    real = redaction._redact

    def watched(text: str, into: Any, config_file: bool = False) -> Any:
        threads.append(threading.current_thread())
        return real(text, into, config_file)

    monkeypatch.setattr(redaction, "_redact", watched)
    completions = engine(simulator, tmp_path, prefix_chars=3000)
    data = source()
    document = Document("file:///big.py", "python", 1, data, parser=languages.parser_for("python"))
    try:
        routed = await completions.complete(CursorRequest(document, len(data)))
    finally:
        await completions.aclose()
    assert routed.text is not None
    assert threads and all(t is threading.current_thread() for t in threads)  # no thread hop per keystroke
