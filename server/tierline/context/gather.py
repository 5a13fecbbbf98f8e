"""The sources together, for the pipeline: what the editor does feeds them, a request asks them
for ranked, redacted candidates from files that may give snippets.

`RepositoryContext.candidates` runs on the event loop in every request: it only reads tables
(the definitions index, the neighbours' windows, the recent-edits ring) and cuts lines from open
documents. Reading files and parsing happen in the worker process (`background.py`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import gc
import logging
import multiprocessing
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierline.context import background, budget
from tierline.context.definitions import Definition
from tierline.context.index import DefinitionIndex
from tierline.context.neighbours import QUERY_LINES, Neighbours
from tierline.context.recent_edits import RecentEdits
from tierline.context.symbols import Imported, imported_names, wanted_names
from tierline.context.workspace import Workspace
from tierline.privacy.redaction import Redaction, is_config_file, redact_text
from tierline.prompt.snippet import DEFINITIONS, NEIGHBOURS, RECENT_EDITS, Snippet

if TYPE_CHECKING:  # pragma: no cover
    from tierline.analysis.documents import Document

log = logging.getLogger(__name__)

# What a request considers: the wanted names looked up, definitions per name, candidates in all.
NAMES_LOOKED_UP = 200
DEFINITIONS_PER_NAME = 3
MAX_SAME_NAME = 12
SAME_CODE_JACCARD = 0.9
HEAD_CHARS = 20_000
# A document changed in the editor is read again after it has been quiet this long.
REINDEX_AFTER_S = 0.5
# How long the privacy gate's answer for a file is reused (asking costs ~0.3 ms: the ignore files of
# every folder above it are looked at). Cleared when the config changes and when the editor
# changes or saves an ignore file; an ignore file written by another program counts within this.
EXCLUSION_TTL_S = 1.0
REDACTED_KEPT = 1024
# Worker processes, at a lower scheduling priority than the server: on two cores the index builds
# on both while a completion still gets a core at once.
WORKERS = 2


@dataclass
class _Open:
    document: Document
    path: str
    timer: asyncio.TimerHandle | None = None


@dataclass
class ContextStatus:
    indexed_files: int = 0
    definitions: int = 0
    ready: bool = False
    build_seconds: float = 0.0
    neighbour_documents: list[str] = field(default_factory=list)


class RepositoryContext:
    def __init__(
        self,
        workspace_root: Path | None,
        excluded: Callable[[str], str | None],
        patterns: tuple[str, ...] = (),
        log_user: Callable[[str], None] = lambda text: None,
    ):
        self.workspace = Workspace(workspace_root, excluded)
        self.index = DefinitionIndex()
        self.neighbours = Neighbours()
        self.recent = RecentEdits()
        self._patterns = patterns
        self._log_user = log_user
        self._open: dict[str, _Open] = {}
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._build: asyncio.Task[None] | None = None
        self._reading: set[asyncio.Future[Any]] = set()
        self._sequence = 0
        self._read_sequence: dict[str, int] = {}
        self._allowed: dict[str, tuple[float, str | None]] = {}
        self._imports: dict[str, tuple[int, int, list[Imported]]] = {}
        self._redacted: dict[tuple[bool, str], tuple[str, Redaction]] = {}  # (config file?, text)

    def relative(self, uri: str) -> str | None:
        """`Workspace.relative`, its answer reused for `EXCLUSION_TTL_S`."""
        now = time.monotonic()
        known = self._allowed.get(uri)
        if known is not None and now - known[0] < EXCLUSION_TTL_S:
            return known[1]
        relative = self.workspace.relative(uri)
        if len(self._allowed) > 4096:
            self._allowed.clear()
        self._allowed[uri] = (now, relative)
        return relative

    def may_give(self, path: str) -> bool:
        """A workspace file (relative path) may give snippets now (the answer reused as `relative`'s)."""
        known = self._allowed.get(path)
        if known is not None and time.monotonic() - known[0] < EXCLUSION_TTL_S:
            return known[1] is not None
        allowed = self.workspace.relative(self.workspace.uri_of(path))
        self._allowed[path] = (time.monotonic(), allowed)
        return allowed is not None

    def forget_exclusions(self) -> None:
        """The privacy gate may answer differently now (its config or an ignore file changed)."""
        self._allowed.clear()

    # -- the editor's side ----------------------------------------------------------------------
    def start(self) -> None:
        """Start building the index (needs a running event loop; no workspace: nothing to do)."""
        if self.workspace.given is None or self._build is not None:
            return
        self._build = asyncio.ensure_future(self._build_index())

    def _worker(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                WORKERS, mp_context=multiprocessing.get_context("spawn"), initializer=background.lower_priority
            )
        return self._pool

    async def _build_index(self) -> None:
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        root = str(self.workspace.given)
        try:
            files = await loop.run_in_executor(self._worker(), background.list_files, root, self._patterns)
            batches = [files[i : i + background.BATCH_FILES] for i in range(0, len(files), background.BATCH_FILES)]
            pending: set[asyncio.Future[Any]] = set()
            while batches or pending:
                while batches and len(pending) < 2 * WORKERS:  # the workers never wait for the loop
                    batch = batches.pop(0)
                    pending.add(
                        loop.run_in_executor(self._worker(), background.read_batch, root, self._patterns, batch)
                    )
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                opened = {entry.path for entry in self._open.values()}
                for future in done:
                    for path, definitions in future.result():
                        if path not in opened:  # an open document's own text wins over the file's
                            self.index.set(path, definitions)
                            await asyncio.sleep(0)  # a request waiting meanwhile goes first
                # The tables only grow while they are built: out of the collector's reach as they
                # grow, so that no full collection walks them in the middle of a keystroke (one did,
                # for 38 ms, on a 5,000-file workspace: the build's longest stall of the event loop).
                gc.freeze()
            # The documents opened meanwhile are read too before the index says it is built.
            await asyncio.gather(*self._reading, return_exceptions=True)
        except (concurrent.futures.process.BrokenProcessPool, OSError, RuntimeError) as error:
            log.warning("the definitions index could not be built: %s", error)
            return
        stats = self.index.stats
        stats.definitions = sum(len(self.index.defined_in(p)) for p in list(self.index._by_path))
        stats.seconds = time.monotonic() - started
        stats.ready = True
        gc.freeze()  # the index's tables are long-lived: later collections need not walk them
        self._log_user(
            f"tierline: indexed the definitions of {stats.files:,} files in {stats.seconds:.1f} s"
            f" ({stats.definitions:,} definitions)"
        )

    def build_now(self) -> None:
        """Read the whole workspace in this process, now (the CLI: `tierline score --show-prompt`)."""
        if self.workspace.given is None:
            return
        started = time.monotonic()
        root = str(self.workspace.given)
        for path, definitions in background.read_batch(
            root, self._patterns, background.list_files(root, self._patterns)
        ):
            self.index.set(path, definitions)
        stats = self.index.stats
        stats.definitions = sum(len(self.index.defined_in(p)) for p in list(self.index._by_path))
        stats.seconds, stats.ready = time.monotonic() - started, True

    def opened(self, document: Document) -> None:
        if _is_ignore_file(document.uri):
            self.forget_exclusions()
        path = self.workspace.relative(document.uri)
        if path is None:
            return
        self._open[document.uri] = _Open(document, path)
        self._reread(document.uri)

    def changed(self, document: Document, rows: list[int]) -> None:
        if _is_ignore_file(document.uri):
            self.forget_exclusions()
        entry = self._open.get(document.uri)
        if entry is None:
            return
        for row in rows:
            self.recent.changed(entry.path, row)
        if entry.timer is not None:
            entry.timer.cancel()
        try:
            entry.timer = asyncio.get_running_loop().call_later(REINDEX_AFTER_S, self._reread, document.uri)
        except RuntimeError:  # no loop (a unit test): read now
            self._reread(document.uri)

    def saved(self, uri: str) -> None:
        if _is_ignore_file(uri):
            self.forget_exclusions()
        if uri in self._open:
            self._reread(uri)

    def closed(self, uri: str) -> None:
        entry = self._open.pop(uri, None)
        if entry is not None and entry.timer is not None:
            entry.timer.cancel()
        # Its windows stay among the neighbours: a recently opened document.

    def _reread(self, uri: str) -> None:
        entry = self._open.get(uri)
        if entry is None:
            return
        entry.timer = None
        document, path = entry.document, entry.path
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            definitions, windows = background.read_text(path, document.language, document.source, True)
            self._apply(path, definitions, windows)
            return
        future = loop.run_in_executor(
            self._worker(), background.read_text, path, document.language, document.source, True
        )
        self._sequence += 1
        sequence = self._read_sequence[path] = self._sequence

        def done(f: asyncio.Future[tuple[list[Definition], Any]]) -> None:
            # Two workers may finish out of order: only the newest text of a document counts.
            if f.cancelled() or f.exception() is not None or self._read_sequence.get(path) != sequence:
                return
            self._apply(path, *f.result())

        future.add_done_callback(done)
        self._reading.add(future)
        future.add_done_callback(self._reading.discard)

    def _apply(self, path: str, definitions: list[Definition], windows: Any) -> None:
        self.index.set(path, definitions)
        if windows is not None:
            self.neighbours.set_windows(path, windows)

    def close(self) -> None:
        if self._build is not None:
            self._build.cancel()
        for entry in self._open.values():
            if entry.timer is not None:
                entry.timer.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def status(self) -> ContextStatus:
        stats = self.index.stats
        return ContextStatus(stats.files, stats.definitions, stats.ready, stats.seconds, self.neighbours.paths())

    # -- a request's side -----------------------------------------------------------------------
    def candidates(self, document: Document, prefix: str, suffix: str, sources: tuple[str, ...]) -> list[Snippet]:
        """Snippets that may go into this request's prompt, unranked and unredacted; none for a
        document that may not give or take snippets (untitled, outside the workspace, excluded)."""
        here = self.relative(document.uri)
        if here is None or not sources:
            return []
        out: list[Snippet] = []
        if DEFINITIONS in sources:
            out.extend(self._definitions(document, here, prefix, suffix))
        if NEIGHBOURS in sources:
            query = "\n".join(prefix.splitlines()[-QUERY_LINES:])
            for n in self.neighbours.best(query, exclude=(here,)):
                if n.jaccard >= SAME_CODE_JACCARD:
                    continue  # the code at the cursor again (a copy): nothing the model does not see
                reason = f"similar to the code at the cursor (Jaccard {n.jaccard:.2f})"
                out.append(Snippet(NEIGHBOURS, n.path, n.line, n.text, 0.4 + n.jaccard, reason))
        if RECENT_EDITS in sources:
            for edit in self.recent.chunks(self._lines_of, lambda path, row: path == here):
                reason = "recently edited" if edit.age == 0 else f"recently edited ({edit.age} edits ago)"
                out.append(Snippet(RECENT_EDITS, edit.path, edit.line, edit.text, 0.6 / (1 + edit.age), reason))
        return out

    def choose(self, candidates: list[Snippet], max_tokens: int, redact: bool) -> tuple[tuple[Snippet, ...], Redaction]:
        """The candidates ranked and cut to `max_tokens`, each file asked again whether it may give
        snippets (an ignore file may have changed since it was indexed), each snippet redacted."""
        redaction = Redaction()
        if max_tokens <= 0 or not candidates:
            return (), redaction
        allowed: dict[str, bool] = {}
        while True:
            chosen = budget.fit(candidates, max_tokens)
            for snippet in chosen:
                if snippet.path not in allowed:
                    allowed[snippet.path] = self.may_give(snippet.path)
            if all(allowed[s.path] for s in chosen):
                break
            candidates = [c for c in candidates if allowed.get(c.path, True)]
        if not redact:
            return chosen, redaction
        hidden = []
        for snippet in chosen:
            key = (is_config_file(snippet.path), snippet.text)
            kept = self._redacted.get(key)
            if kept is None:
                kept = redact_text(snippet.text, config_file=key[0])
                if len(self._redacted) >= REDACTED_KEPT:
                    self._redacted.clear()
                self._redacted[key] = kept
            text, secrets = kept
            redaction.merge(secrets)
            hidden.append(snippet if text == snippet.text else dataclasses.replace(snippet, text=text))
        return tuple(hidden), redaction

    def _definitions(self, document: Document, here: str, prefix: str, suffix: str) -> list[Snippet]:
        # Names the file defines are never looked up elsewhere: from the index and, for what it
        # has not read yet, from the code around the cursor.
        local = {d.name for d in self.index.defined_in(here)} | set(_DEFINED.findall(prefix + suffix))
        out = []
        for wanted in wanted_names(prefix, suffix, self._imports_of(document), local)[:NAMES_LOOKED_UP]:
            found: Sequence[Definition] = self.index.lookup(wanted.name)
            if not found:
                continue
            # The module the file imports it from, when the index has it: that one.
            hinted = [d for d in found if _from_module(d.path, wanted.module)] if wanted.module else []
            if hinted:
                found = tuple(hinted)
            elif len(found) > MAX_SAME_NAME:
                continue  # defined in many places (`__init__`, `run`): which one is meant is a guess
            found = tuple(d for d in found if d.path != here)
            if not found:
                continue
            spread = 1.0 / len(found) ** 0.5
            for rank, definition in enumerate(found[:DEFINITIONS_PER_NAME]):
                hint = _from_module(definition.path, wanted.module)
                score = wanted.weight * (1.0 if hint else spread) / (1 + rank)
                reason = f"defines {wanted.name}, {wanted.reason}"
                out.append(Snippet(DEFINITIONS, definition.path, definition.line, definition.text, score, reason))
        return out

    def _imports_of(self, document: Document) -> list[Imported]:
        """What the document imports (its first `HEAD_CHARS`), once per version."""
        known = self._imports.get(document.uri)
        if known is not None and known[:2] == (document.version, len(document.source)):
            return known[2]
        found = imported_names(document.source[:HEAD_CHARS].decode("utf-8", errors="ignore"))
        if len(self._imports) > 256:
            self._imports.clear()
        self._imports[document.uri] = (document.version, len(document.source), found)
        return found

    def _lines_of(self, path: str, first: int, last: int) -> str | None:
        entry = next((e for e in self._open.values() if e.path == path), None)
        if entry is None:
            return None
        document = entry.document
        if first >= len(document.line_starts):
            return None
        start = document.line_starts[first]
        end_line = min(last + 1, len(document.line_starts))
        end = document.line_starts[end_line] if end_line < len(document.line_starts) else len(document.source)
        return document.source[start:end].decode("utf-8", errors="replace")


_DEFINED = re.compile(r"\b(?:def|class|function|func|fn|struct|interface|type|enum|trait)\s+([A-Za-z_]\w*)")


def _is_ignore_file(uri: str) -> bool:
    from tierline.privacy.exclusion import IGNORE_FILES

    return uri.rsplit("/", 1)[-1] in IGNORE_FILES


def _from_module(path: str, module: str) -> bool:
    if not module:
        return False
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    folder = path.rsplit("/", 2)[-2] if path.count("/") >= 1 else ""
    return stem == module or (stem in ("__init__", "index", "mod") and folder == module)
