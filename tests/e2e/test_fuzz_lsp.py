"""Fuzzing the real server over stdio: over 10,000 hostile messages (seeded, bounded), then the
document must still equal a reference, every request must have been answered, nothing may have
popped up, and a completion must still arrive.

The client here is raw bytes on the server's stdin (not an LSP library), so it can send what no
library would: broken frames, invalid UTF-8, lone surrogates, mistyped positions, garbage.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.lsp import SIMPLE_CURSOR
from tests.helpers.reference import Reference
from tests.helpers.stdio import Peer, encode, frame, spawn
from tierline.commands.demo import SIMPLE_PY
from tierline.devtools.simulator import write_toml

MESSAGES = 10_500
SEEDS = (8, 1108)

# Inserted text: ASCII, CRLF, astral (two UTF-16 units), CJK, combining marks, tabs, and two hostile
# kinds resolved below: a lone surrogate escape and invalid UTF-8 bytes.
PIECES = [
    "x",
    "def f(a):",
    "    return a",
    "\n",
    "\r\n",
    "😀",
    "漢字",
    "é",
    "e\u0301",
    "\t",
    "𝔘𝔫𝔦",
    "{[(",
    ")]}",
    '"',
    "\\",
    "",
]
LONE_SURROGATE = "\ud800"
BAD_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf0\x9f", b"\x80\x80"]
BAD_MARK = "@@BAD{}@@"


@dataclass
class Fuzzer:
    rng: random.Random
    uri: str
    reference: Reference
    version: int = 1
    next_id: int = 1000
    expected_ids: set[int] = field(default_factory=set)

    def request(self, method: str, params: Any) -> bytes:
        self.next_id += 1
        self.expected_ids.add(self.next_id)
        return frame(encode({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}))

    def notify(self, method: str, params: Any) -> bytes:
        return frame(encode({"jsonrpc": "2.0", "method": method, "params": params}))

    def random_position(self) -> tuple[int, int]:
        index = self.rng.randint(0, len(self.reference.text))
        # Never inside a \r\n pair: the editor has no position there.
        if 0 < index < len(self.reference.text) and self.reference.text[index - 1 : index + 1] == "\r\n":
            index -= 1
        return self.reference.position(index)

    def change(self, start: tuple[int, int], end: tuple[int, int], text: str) -> dict[str, Any]:
        self.version += 1
        return {
            "textDocument": {"uri": self.uri, "version": self.version},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": start[0], "character": start[1]},
                        "end": {"line": end[0], "character": end[1]},
                    },
                    "text": text,
                }
            ],
        }

    def edit(self) -> bytes:
        """A valid edit, sometimes with a lone surrogate or invalid UTF-8 in its text."""
        if len(self.reference.text) > 200_000:  # keep the document bounded: delete a chunk
            start = self.reference.position(0)
            end = self.reference.position(self.rng.randint(1000, 50_000))
            self.reference.apply(start, end, "")
            return self.notify("textDocument/didChange", self.change(start, end, ""))
        a, b = self.random_position(), self.random_position()
        start, end = min(a, b), max(a, b)
        if self.rng.random() < 0.7:
            end = start
        pieces = [self.rng.choice(PIECES) for _ in range(self.rng.randint(0, 6))]
        kind = self.rng.random()
        if kind < 0.08:
            pieces.insert(self.rng.randint(0, len(pieces)), LONE_SURROGATE)
        bad: list[bytes] = []
        if 0.08 <= kind < 0.16:
            bad = [self.rng.choice(BAD_UTF8)]
            pieces.insert(self.rng.randint(0, len(pieces)), BAD_MARK.format(0))
        if kind > 0.997:
            pieces.append("y" * self.rng.randint(100_000, 300_000))  # an over-long line
        text = "".join(pieces)
        body = encode({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": self.change(start, end, text)})
        seen = text.replace(LONE_SURROGATE, "\ufffd")
        for i, raw in enumerate(bad):
            body = body.replace(BAD_MARK.format(i).encode(), raw)
            seen = seen.replace(BAD_MARK.format(i), raw.decode("utf-8", errors="replace"))
        self.reference.apply(start, end, seen)
        return frame(body)

    def out_of_range_edit(self) -> bytes:
        """Positions past the end: LSP clamps them, and so does the reference."""
        lines = self.reference.lines()
        start = (self.rng.randint(0, len(lines) + 3), self.rng.randint(0, 500))
        end = (start[0] + self.rng.randint(0, 2), start[1] + self.rng.randint(0, 50))
        text = self.rng.choice(PIECES)
        self.reference.apply(start, end, text)
        return self.notify("textDocument/didChange", self.change(start, end, text))

    def hostile(self) -> bytes:  # noqa: PLR0911, PLR0912 - one branch per kind of hostility
        rng = self.rng
        roll = rng.random()
        position = {"line": rng.randint(0, 50), "character": rng.randint(0, 50)}
        bad_value = rng.choice([-1, -(2**40), 2**40, "3", None, 1.5, [], {}, True])
        if roll < 0.10:
            bad = dict(position, **{rng.choice(["line", "character"]): bad_value})
            params = self.change((0, 0), (0, 0), "z")
            params["contentChanges"][0]["range"][rng.choice(["start", "end"])] = bad
            return self.notify("textDocument/didChange", params)  # refused whole: no change
        if roll < 0.15:
            return self.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": "file:///nowhere.py", "version": 1}, "contentChanges": [{"text": "x"}]},
            )
        if roll < 0.27:
            target = rng.choice([self.uri, "file:///nowhere.py", 42, None])
            pos: Any = rng.choice([position, {"line": bad_value, "character": 0}, "here", None])
            return self.request(
                "textDocument/inlineCompletion",
                {"textDocument": {"uri": target}, "position": pos, "context": {"triggerKind": rng.choice([1, 2, 9])}},
            )
        if roll < 0.40:
            args = rng.choice(
                [
                    [],
                    [self.uri],
                    [self.uri, {"line": bad_value, "character": 0}],
                    [self.uri, {"line": 10**9, "character": 0}],
                    [7, 8],
                    ["file:///nowhere.py", position],
                    [self.uri, "not a position"],
                    [{"uri": self.uri}],
                    None,
                    "explain",
                ]
            )
            params: dict[str, Any] = {"command": "tierline.explain"}
            if args is not None:
                params["arguments"] = args
            return self.request("workspace/executeCommand", params)
        if roll < 0.45:
            command = rng.choice(["tierline.stats", "tierline.escalate", "tierline.nope", "", 5])
            return self.request("workspace/executeCommand", {"command": command, "arguments": [bad_value]})
        if roll < 0.52:
            return self.request(rng.choice(["tierline/unknown", "textDocument/hover", "$/weird", ""]), {"x": 1})
        if roll < 0.56:
            return self.notify(rng.choice(["tierline/unknown", "$/setTrace", "textDocument/didSave"]), [1, 2])
        if roll < 0.60:
            return self.notify("$/cancelRequest", {"id": rng.choice([self.next_id, -5, "x", None])})
        if roll < 0.66:
            return frame(rng.choice([b"{", b"not json", b"\xff\xfe{}", b'{"jsonrpc": "2.0", "id": 1,', b""]))
        if roll < 0.70:
            return frame(rng.choice([b"[]", b"42", b'"s"', b"null", b"[" * 50_000 + b"]" * 50_000]))
        if roll < 0.74:
            # Not JSON-RPC 2.0, or an id of the wrong type: answered with an error (id null for bad ids).
            if rng.random() < 0.5:
                self.next_id += 1
                self.expected_ids.add(self.next_id)
                return frame(encode({"jsonrpc": "1.0", "id": self.next_id, "method": "tierline/x"}))
            return frame(encode({"jsonrpc": "2.0", "id": rng.choice([{}, [], True, 1.5]), "method": "x"}))
        if roll < 0.82:
            garbage = rng.choice([b"garbage\r\n", b"\r\n", b"Content-Type: x\r\n", b"Content-Length: abc\r\n"])
            return garbage + self.edit()  # junk before a real frame: resynchronised, the edit applied
        if roll < 0.86:
            return b"X-Header: 1\r\n\r\n" + self.edit()  # a frame without Content-Length, then a real one
        if roll < 0.90:
            return self.out_of_range_edit()
        return self.request("workspace/executeCommand", {"command": "tierline.stats"})


async def start_server(tmp_path: Path, simulator, encoding: str) -> tuple[Peer, asyncio.Task[None], Path]:
    config = {
        "routing": {"thresholds": {"mid": 1.0, "premium": 1.0}},
        "completion": {"prefix_chars": 100_000, "suffix_chars": 100_000, "debounce_ms": 0},
        "cache": {"dir": str(tmp_path / "cache")},
        "ledger": {"dir": str(tmp_path / "state")},
        "privacy": {"redact": False},
        "models": [{"name": "fim", "tier": "cheap", "api": "fim", "base_url": simulator.base_url, "model": "fim-m"}],
    }
    path = tmp_path / "fuzz.toml"
    write_toml(config, path)
    log = tmp_path / "server.log"
    peer, reader = await spawn(log, path)
    capabilities = {"general": {"positionEncodings": [encoding]}}
    result = await peer.call(
        1, "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": capabilities}
    )
    assert result["result"]["capabilities"]["positionEncoding"] == encoding
    peer.write(frame(encode({"jsonrpc": "2.0", "method": "initialized", "params": {}})))
    return peer, reader, log


@pytest.mark.parametrize(("seed", "encoding"), list(zip(SEEDS, ("utf-16", "utf-8"), strict=True)))
async def test_ten_thousand_hostile_messages(simulator, tmp_path, seed, encoding):
    started = time.monotonic()
    peer, reader, log = await start_server(tmp_path, simulator, encoding)
    uri = (tmp_path / "fuzz.py").as_uri()
    initial = "import os\n\n\ndef main():\n    return os.getcwd()\n"
    fuzzer = Fuzzer(random.Random(seed), uri, Reference(initial, encoding))
    peer.write(
        fuzzer.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": initial}},
        )
    )

    sent = 0
    stdin = peer.process.stdin
    assert stdin is not None
    while sent < MESSAGES:
        roll = fuzzer.rng.random()
        if roll < 0.45:
            data = fuzzer.edit()
        elif roll < 0.465:
            line, character = fuzzer.random_position()
            data = fuzzer.request(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": uri},
                    "position": {"line": line, "character": character},
                    "context": {"triggerKind": 1},
                },
            )
        else:
            data = fuzzer.hostile()
        peer.write(data)
        sent += 1
        if sent % 200 == 0:
            await stdin.drain()
    # Twice, a header line over the reader's limit (1 MiB): skipped, and reading resumes.
    for _ in range(2):
        peer.write(b"X" * (1 << 20) + b"Y" * 4096 + b"\r\n" + fuzzer.edit())
    await stdin.drain()

    # A last edit makes the final window new (no cache hit), then a completion at the very end.
    end = fuzzer.reference.position(len(fuzzer.reference.text))
    peer.write(fuzzer.notify("textDocument/didChange", fuzzer.change(end, end, "\nvalue = ")))
    fuzzer.reference.apply(end, end, "\nvalue = ")
    end = fuzzer.reference.position(len(fuzzer.reference.text))
    before = len(simulator.requests)
    final = await peer.call(
        99_999,
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": uri},
            "position": {"line": end[0], "character": end[1]},
            "context": {"triggerKind": 1},
        },
    )
    assert "result" in final, final

    # The document the provider saw is the editor's, character for character.
    fim = [r for r in simulator.requests[before:] if r["path"].endswith("/completions")]
    assert fim, "the final completion reached no model"
    assert fim[-1]["prefix"] == fuzzer.reference.text
    assert fim[-1]["suffix"] == ""

    # A clean document afterwards gets a correct completion.
    clean = (tmp_path / "clean.py").as_uri()
    peer.write(
        fuzzer.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": clean, "languageId": "python", "version": 1, "text": SIMPLE_PY}},
        )
    )
    answer = await peer.call(
        100_000,
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": clean},
            "position": {"line": SIMPLE_CURSOR[0], "character": SIMPLE_CURSOR[1]},
            "context": {"triggerKind": 1},
        },
    )
    items = answer["result"]["items"]
    assert items and "tl_" in items[0]["insertText"]

    # Every request answered, no pop-up, still running, and it exits cleanly when asked.
    stats = await peer.call(100_001, "workspace/executeCommand", {"command": "tierline.stats"})
    assert "result" in stats
    unanswered = fuzzer.expected_ids - set(peer.responses)
    assert not unanswered, f"{len(unanswered)} of {len(fuzzer.expected_ids)} requests never answered"
    pop_ups = [n for n in peer.notifications if n["method"] == "window/showMessage"]
    assert pop_ups == []
    errors = [r for r in peer.responses.values() if "error" in r]
    assert errors and all("Traceback" not in json.dumps(r["error"]) for r in errors)
    assert peer.null_id_errors > 0  # parse errors were answered too
    assert peer.process.returncode is None
    await peer.call(100_002, "shutdown", None)
    peer.write(frame(encode({"jsonrpc": "2.0", "method": "exit"})))
    assert await asyncio.wait_for(peer.process.wait(), 30) == 0
    reader.cancel()
    stderr = await peer.process.stderr.read() if peer.process.stderr else b""
    assert b"Traceback" not in stderr
    assert len(fuzzer.expected_ids) > 2000
    print(f"fuzz {encoding}: {sent} messages, {len(fuzzer.expected_ids)} requests, {time.monotonic() - started:.1f} s")


async def test_a_frame_too_large_to_skip_ends_the_server_cleanly(simulator, tmp_path):
    peer, reader, _ = await start_server(tmp_path, simulator, "utf-16")
    peer.write(b"Content-Length: 999999999999\r\n\r\n{}")
    assert await asyncio.wait_for(peer.process.wait(), 30) == 1
    reader.cancel()
    stderr = (await peer.process.stderr.read()).decode() if peer.process.stderr else ""
    assert "cannot resynchronise" in stderr and "restarts the server" in stderr
    assert "Traceback" not in stderr
