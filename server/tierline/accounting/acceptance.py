"""What became of each completion shown: one fate per request, in the ledger's SQLite file, never code.

A completion the server answers is *shown* (a row in ``fates``). The editor runs
``tierline.accepted`` with ``[request_id]`` when the user accepts it whole, or with
``[request_id, {"kind": "word"|"line", "chars": N}]`` for a partial acceptance; tierline's own
plugins may also send ``{"kind": "dismiss"}``. A shown completion that another one replaces (or
whose document closes) with no acceptance is *ignored*.

After an acceptance, at each of ``CHECKPOINTS_S`` (30 s, 2, 5 and 10 minutes: how the field
measures retention), the accepted text is looked for around where it went in: the characters still
there are *retained* at that checkpoint (``retained_30s`` ...; ``retained_chars`` is the 30 s one).
A checkpoint is measured lazily and exactly: at the first change after it is due, on the text as it
was *before* that change (what it was at the checkpoint), or when the document closes (the text as
closed, for every checkpoint still to come). The text needed for that lives in memory only, for
the few acceptances still waiting; the table holds counts.

Alternatives (completion/alternatives.py): the items of one invoked request are rows of their own
sharing a ``group_id`` (the first item's request id); accepting one settles the others of its group
as ignored (not chosen), so each tier's acceptance counts the answers of that tier the user took.

Clients of other completion servers report with notifications instead of arguments
(`notifications.py`): `textDocument/didShowCompletion` marks the item displayed and
`textDocument/didPartiallyAcceptCompletion` gives the cumulative ``acceptedLength``.

``FateLedger`` is the SQL; ``AcceptanceTracker`` is what the server calls, through ``Books`` so
that a broken ledger never costs an answer; ``acceptance_summary`` is what `tierline.stats`,
`tierline report` and `tierline calibrate` read.
"""

from __future__ import annotations

import difflib
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tierline.accounting.ledger import Ledger, open_ledger_file, utc_day
from tierline.wire import AcceptanceStats, Fate, Tier

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS fates (
    request_id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    day TEXT NOT NULL,
    language TEXT NOT NULL,
    tier TEXT NOT NULL,
    model TEXT NOT NULL,
    score REAL,
    cached INTEGER NOT NULL,
    shown_chars INTEGER NOT NULL,
    fate TEXT NOT NULL,
    accepted_chars INTEGER NOT NULL DEFAULT 0,
    retained_chars INTEGER,
    decided_ts REAL,
    features TEXT,
    group_id TEXT,
    displayed INTEGER NOT NULL DEFAULT 0,
    retained_30s INTEGER,
    retained_120s INTEGER,
    retained_300s INTEGER,
    retained_600s INTEGER
);
CREATE INDEX IF NOT EXISTS fates_day ON fates(day);
"""

# How long after an acceptance its text is looked for again ("still there a while later"): the
# checkpoints field studies of completion acceptance use; the first is the classic one.
CHECKPOINTS_S: tuple[int, ...] = (30, 120, 300, 600)
RETENTION_S = float(CHECKPOINTS_S[0])
# Columns added after the first ledgers: (name, SQL type) added to an older table in place.
_ADDED_COLUMNS = (
    ("features", "TEXT"),
    ("group_id", "TEXT"),
    ("displayed", "INTEGER NOT NULL DEFAULT 0"),
    *((f"retained_{s}s", "INTEGER") for s in CHECKPOINTS_S),
)
# Acceptances waiting for the retention check, and shown completions remembered for it.
MAX_REMEMBERED = 512
# A run of fewer matching characters is chance (spaces, brackets), not the accepted text.
MIN_RETAINED_RUN = 4
# Partial kinds an editor may send; "dismiss" is tierline's own plugins' extension.
PARTIAL_KINDS = ("word", "line")
DISMISS = "dismiss"
MAX_REQUEST_ID = 64
MAX_CHARS = 1_000_000

ACCEPTED_FATES = (Fate.ACCEPTED.value, Fate.PARTIAL.value)


class BadAcceptance(ValueError):
    """`tierline.accepted` called with arguments that are not `[request_id]` or `[request_id, {kind, chars}]`."""


@dataclass(frozen=True)
class ShownRow:
    """One shown completion: what the ledger keeps of it (counts, never the text)."""

    request_id: str
    language: str
    tier: Tier
    model: str
    score: float | None
    cached: bool
    shown_chars: int
    # The numeric features the score was read from (JSON, counts only: no code, no path), so that
    # `tierline calibrate --weights` can refit the score on what this user accepted.
    features: str | None = None
    # The first item's request id when this row is one of an invoked request's alternatives.
    group_id: str | None = None


@dataclass(frozen=True)
class Report:
    """One `tierline.accepted` call, checked: whole (kind None), partial (word/line), or dismiss;
    ``total`` is a cumulative partial acceptance (`didPartiallyAcceptCompletion`'s acceptedLength)."""

    request_id: str
    kind: str | None = None
    chars: int = 0
    total: bool = False


def parse_report(arguments: Sequence[Any]) -> Report:
    """The command's arguments, checked (they come from the editor: any JSON at all)."""
    if not arguments or not isinstance(arguments[0], str) or not 0 < len(arguments[0]) <= MAX_REQUEST_ID:
        raise BadAcceptance("tierline.accepted takes [request_id] or [request_id, {kind, chars}]")
    request_id = arguments[0]
    if len(arguments) < 2 or arguments[1] is None:
        return Report(request_id)
    detail = arguments[1]
    if hasattr(detail, "_asdict"):  # pygls may hand a JSON object over as a named tuple
        detail = detail._asdict()
    if not isinstance(detail, Mapping):
        raise BadAcceptance("tierline.accepted: the second argument must be {kind, chars}")
    kind = detail.get("kind")
    if kind == DISMISS:
        return Report(request_id, DISMISS)
    if kind not in PARTIAL_KINDS:
        raise BadAcceptance(f"tierline.accepted: kind must be one of word, line, {DISMISS}; got {kind!r}")
    chars = detail.get("chars")
    if isinstance(chars, bool) or not isinstance(chars, int) or not 0 <= chars <= MAX_CHARS:
        raise BadAcceptance(f"tierline.accepted: chars must be a whole number >= 0, got {chars!r}")
    return Report(request_id, str(kind), chars)


class FateLedger:
    """The `fates` table, in the ledger's file (its own connection; the ledger owns `calls`)."""

    def __init__(self, directory: Path):
        self.path = directory / Ledger.FILENAME
        self._directory = directory
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            db = open_ledger_file(self._directory, SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(fates)")}
            for name, kind in _ADDED_COLUMNS:
                if name not in columns:  # a ledger from before the column: add it, keep the rows
                    db.execute(f"ALTER TABLE fates ADD COLUMN {name} {kind}")
            if "retained_30s" not in columns:  # what was measured before checkpoints was the 30 s one
                db.execute("UPDATE fates SET retained_30s = retained_chars WHERE retained_chars IS NOT NULL")
            self._db = db
        return self._db

    def shown(self, row: ShownRow, timestamp: float) -> None:
        self._conn().execute(
            "INSERT OR IGNORE INTO fates (request_id, ts, day, language, tier, model, score, cached, shown_chars, fate,"
            " features, group_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                row.request_id,
                timestamp,
                utc_day(timestamp),
                row.language,
                row.tier,
                row.model,
                row.score,
                int(row.cached),
                row.shown_chars,
                Fate.SHOWN.value,
                row.features,
                row.group_id,
            ),
        )

    def grouped(self, request_id: str) -> None:
        """The first item of an invoked request that got alternatives heads its own group."""
        self._conn().execute("UPDATE fates SET group_id = ? WHERE request_id = ?", (request_id, request_id))

    def displayed(self, request_id: str) -> bool:
        """The editor said it displayed the item (`textDocument/didShowCompletion`); False: unknown item."""
        cursor = self._conn().execute("UPDATE fates SET displayed = 1 WHERE request_id = ?", (request_id,))
        return cursor.rowcount > 0

    def accepted(self, report: Report, timestamp: float, typed: int = 0) -> tuple[int, int] | None:
        """Record an acceptance; (accepted_chars, shown_chars) after it, None for an unknown request.

        A whole acceptance takes every shown character the user had not typed themselves (``typed``:
        the first characters of the completion, typed through before the acceptance); partial ones
        add up (capped at what was left) and never undo a whole one."""
        db = self._conn()
        found = db.execute(
            "SELECT fate, accepted_chars, shown_chars FROM fates WHERE request_id = ?", (report.request_id,)
        ).fetchone()
        if found is None:
            return None
        fate, accepted_chars, shown_chars = found
        given = max(0, shown_chars - typed)  # what the completion wrote, not the user
        if report.kind is None:
            fate, accepted_chars = Fate.ACCEPTED.value, given
        elif report.total:  # cumulative: the longest reported so far
            if fate != Fate.ACCEPTED.value:
                accepted_chars = min(given, max(accepted_chars, report.chars))
                fate = Fate.ACCEPTED.value if accepted_chars >= given else Fate.PARTIAL.value
        elif fate != Fate.ACCEPTED.value:
            accepted_chars = min(given, accepted_chars + report.chars)
            fate = Fate.ACCEPTED.value if accepted_chars >= given else Fate.PARTIAL.value
        db.execute(
            "UPDATE fates SET fate = ?, accepted_chars = ?, decided_ts = ? WHERE request_id = ?",
            (fate, accepted_chars, timestamp, report.request_id),
        )
        return int(accepted_chars), int(shown_chars)

    def settle(self, request_id: str, fate: Fate, timestamp: float) -> None:
        """Dismissed or ignored, unless something was accepted already."""
        self._conn().execute(
            "UPDATE fates SET fate = ?, decided_ts = ? WHERE request_id = ? AND fate = ?",
            (fate.value, timestamp, request_id, Fate.SHOWN.value),
        )

    def retained(self, request_id: str, chars: int, after_s: int = CHECKPOINTS_S[0]) -> None:
        """The accepted characters still there ``after_s`` after the acceptance (one of CHECKPOINTS_S)."""
        if after_s not in CHECKPOINTS_S:
            raise ValueError(f"not a retention checkpoint: {after_s}")
        column = f"retained_{after_s}s"
        also = ", retained_chars = ?" if after_s == CHECKPOINTS_S[0] else ""
        values = (chars, chars) if also else (chars,)
        self._conn().execute(f"UPDATE fates SET {column} = ?{also} WHERE request_id = ?", (*values, request_id))

    def settle_group(self, group_id: str, chosen: str, timestamp: float) -> None:
        """The alternatives of a group not chosen: ignored (unless one was accepted too)."""
        self._conn().execute(
            "UPDATE fates SET fate = ?, decided_ts = ? WHERE group_id = ? AND request_id != ? AND fate = ?",
            (Fate.IGNORED.value, timestamp, group_id, chosen, Fate.SHOWN.value),
        )

    def rows(self, since_ts: float = 0.0) -> list[dict[str, Any]]:
        """Every fate since a time, for calibration: score, tier, language, fate, chars."""
        cursor = self._conn().execute(
            "SELECT request_id, ts, language, tier, model, score, cached, shown_chars, fate, accepted_chars,"
            " retained_chars, features, group_id FROM fates WHERE ts >= ? ORDER BY ts",
            (since_ts,),
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor]

    def costs_by_request(self, since_ts: float = 0.0) -> dict[str, float]:
        """What each request cost (all its calls), from the ledger's `calls` table."""
        try:
            rows = self._conn().execute(
                "SELECT request_id, COALESCE(SUM(cost_usd), 0) FROM calls WHERE ts >= ? GROUP BY request_id",
                (since_ts,),
            )
            return {str(request_id): float(cost) for request_id, cost in rows}
        except sqlite3.OperationalError:  # no calls table yet
            return {}

    def summary(self, day: str | None = None) -> dict[str, Any]:
        """Acceptance overall and by tier, model and language, with spend from `calls`."""
        return acceptance_summary(self._conn(), day)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


# ---------------------------------------------------------------------------------------------
# Reading it back


Retained = dict[str, float | None]


def retention_key(after_s: int) -> str:
    """The contract's name of a checkpoint: 30 -> "30s"."""
    return f"{after_s}s"


def acceptance_figures(
    shown: int, accepted: int, chars: tuple[int, int], spend_usd: float, retained: Retained | None = None
) -> AcceptanceStats:
    """The contract's shape from counts; ``chars`` is (accepted, retained at 30 s); ``retained`` the
    share of accepted characters still there at each checkpoint (None where none was measured)."""
    accepted_chars, retained_chars = chars
    return {
        "shown": shown,
        "accepted": accepted,
        "rate": round(accepted / shown, 4) if shown else 0.0,
        "accepted_chars": accepted_chars,
        "retained_chars": retained_chars,
        "cost_per_accepted_char_usd": round(spend_usd / accepted_chars, 10) if accepted_chars else None,
        "retained": retained if retained is not None else {retention_key(s): None for s in CHECKPOINTS_S},
    }


def empty_acceptance() -> AcceptanceStats:
    return acceptance_figures(0, 0, (0, 0), 0.0)


def _spend_by(db: sqlite3.Connection, column: str, where: str, args: tuple[Any, ...]) -> dict[str, float]:
    try:
        rows = db.execute(f"SELECT {column}, COALESCE(SUM(cost_usd), 0) FROM calls {where} GROUP BY {column}", args)
        return {str(key): float(spend) for key, spend in rows}
    except sqlite3.OperationalError:  # no calls table yet: nothing spent
        return {}


# Per checkpoint: the characters still there, and the accepted characters of the rows measured
# there (an acceptance not measured yet is in neither: the share is of what was looked at).
_RETENTION_SQL = ", ".join(
    f"SUM(COALESCE(retained_{s}s, 0)), SUM(CASE WHEN retained_{s}s IS NULL THEN 0 ELSE accepted_chars END)"
    for s in CHECKPOINTS_S
)


def _shares(values: Sequence[Any]) -> Retained:
    out: Retained = {}
    for index, after_s in enumerate(CHECKPOINTS_S):
        kept, measured = values[2 * index] or 0, values[2 * index + 1] or 0
        out[retention_key(after_s)] = round(min(1.0, kept / measured), 4) if measured else None
    return out


def acceptance_summary(db: sqlite3.Connection, day: str | None = None) -> dict[str, Any]:
    """{"overall": AcceptanceStats, "by_tier"|"by_model"|"by_language": {name: AcceptanceStats}}.

    Cost per accepted character is everything spent (every call, failed ones too) over the
    characters accepted: what an accepted character really cost."""
    where, args = ("WHERE day = ?", (day,)) if day else ("", ())
    out: dict[str, Any] = {}
    counts = "COUNT(*), SUM(fate IN (?, ?)), SUM(accepted_chars), SUM(COALESCE(retained_chars, 0))"
    for group in ("tier", "model", "language"):
        spend = _spend_by(db, group, where, args)
        table: dict[str, AcceptanceStats] = {}
        for key, shown, accepted, accepted_chars, retained, *kept in db.execute(
            f"SELECT {group}, {counts}, {_RETENTION_SQL} FROM fates {where} GROUP BY {group}",
            (*ACCEPTED_FATES, *args),
        ):
            table[str(key)] = acceptance_figures(
                shown, accepted or 0, (accepted_chars or 0, retained or 0), spend.get(str(key), 0.0), _shares(kept)
            )
        out[f"by_{group}"] = table
    total_spend = sum(_spend_by(db, "tier", where, args).values())
    shown, accepted, accepted_chars, retained, *kept = db.execute(
        f"SELECT {counts}, {_RETENTION_SQL} FROM fates {where}", (*ACCEPTED_FATES, *args)
    ).fetchone()
    out["overall"] = acceptance_figures(
        shown, accepted or 0, (accepted_chars or 0, retained or 0), total_spend, _shares(kept)
    )
    return out


def empty_summary() -> dict[str, Any]:
    return {"overall": empty_acceptance(), "by_tier": {}, "by_model": {}, "by_language": {}}


# ---------------------------------------------------------------------------------------------
# Retention


def retained_chars(accepted_text: str, source: bytes, offset: int) -> int:
    """How many of the accepted characters are still around where they went in.

    Counts the characters of runs of at least ``MIN_RETAINED_RUN`` (or the whole text, when
    shorter) found, in order, in the code near ``offset`` (edits before it move it a little)."""
    if not accepted_text:
        return 0
    raw = accepted_text.encode("utf-8")
    reach = 2 * len(raw) + 256
    window = source[max(0, offset - reach) : offset + reach].decode("utf-8", errors="replace")
    matcher = difflib.SequenceMatcher(None, accepted_text, window, autojunk=False)
    least = min(MIN_RETAINED_RUN, len(accepted_text))
    return sum(block.size for block in matcher.get_matching_blocks() if block.size >= least)


@dataclass
class _Shown:
    uri: str
    offset: int
    text: str
    at: float
    typed: str = ""  # the completion's first characters, typed by the user since it was shown


@dataclass
class _Waiting:
    request_id: str
    uri: str
    offset: int
    text: str
    accepted_at: float
    checkpoints: list[int]  # still to measure, in seconds after the acceptance


Guard = Callable[[Callable[["FateLedger"], T], T], T]


class AcceptanceTracker:
    """The server's side: shown, accepted (whole, partial), dismissed, ignored, retained.

    ``guard(action, fallback)`` runs ``action(fate_ledger)`` and turns a store fault into the
    fallback (``Books.with_fates``): bookkeeping never costs an answer. ``clock`` is injectable so
    that tests move time instead of sleeping."""

    def __init__(
        self,
        guard: Guard[Any],
        clock: Callable[[], float] = time.time,
        checkpoints_s: Sequence[int] = CHECKPOINTS_S,
    ):
        self._guard = guard
        self._clock = clock
        self.checkpoints_s = tuple(checkpoints_s)
        self._shown: OrderedDict[str, _Shown] = OrderedDict()
        self._latest: dict[str, str] = {}  # uri -> request_id last shown there
        self._aliases: dict[str, str] = {}  # typed-through request -> the request first shown
        self._group_of: OrderedDict[str, str] = OrderedDict()  # alternative item -> its group (first item)
        self._waiting: list[_Waiting] = []

    # -- from the pipeline ----------------------------------------------------------------------
    def shown(self, row: ShownRow, uri: str, offset: int, text: str) -> None:
        now = self._clock()
        self._supersede(uri, now)
        self._latest[uri] = row.request_id
        self._remember(row.request_id, _Shown(uri, offset, text, now))
        self._guard(lambda fates: fates.shown(row, now), None)

    def shown_alternative(self, row: ShownRow, uri: str, offset: int, text: str) -> None:
        """One more item of the request ``row.group_id`` (shown just before, at the same place): a
        row of its own in the group, which the first item's acceptance or supersession settles too."""
        group = row.group_id
        if group is None:
            raise ValueError("an alternative belongs to a group")
        now = self._clock()
        if group not in self._group_of:
            self._group_of[group] = group
            self._guard(lambda fates: fates.grouped(group), None)
        self._group_of[row.request_id] = group
        while len(self._group_of) > MAX_REMEMBERED:
            self._group_of.popitem(last=False)
        self._remember(row.request_id, _Shown(uri, offset, text, now))
        self._guard(lambda fates: fates.shown(row, now), None)

    def _remember(self, request_id: str, shown: _Shown) -> None:
        self._shown[request_id] = shown
        while len(self._shown) > MAX_REMEMBERED:
            self._shown.popitem(last=False)

    def typed_over(self, uri: str, source: bytes, offset: int) -> None:
        """A request at ``offset``: what the user typed since the completion last shown in ``uri``,
        when it is the completion's own beginning (they typed through it; an editor such as VS Code
        may still show, and accept, that first item whole). Those characters are the user's."""
        latest = self._latest.get(uri)
        shown = self._shown.get(latest) if latest is not None else None
        if shown is None or not shown.offset <= offset <= shown.offset + len(shown.text.encode("utf-8")):
            return
        typed = source[shown.offset : offset]
        if shown.text.encode("utf-8").startswith(typed):
            shown.typed = typed.decode("utf-8", errors="ignore")

    def continued(self, uri: str, request_id: str) -> None:
        """A typed-through request shows the rest of the completion last shown in ``uri``: its
        acceptance is the first one's (one fate per completion, not per keystroke)."""
        original = self._latest.get(uri)
        if original is None:
            return
        self._aliases[request_id] = self._aliases.get(original, original)
        while len(self._aliases) > MAX_REMEMBERED:
            self._aliases.pop(next(iter(self._aliases)))

    def canonical(self, request_id: str) -> str:
        """The completion a request's acceptance counts for (a typed-through request's is the first shown)."""
        return self._aliases.get(request_id, request_id)

    # -- from the editor ------------------------------------------------------------------------
    def report(self, arguments: Sequence[Any]) -> dict[str, Any]:
        """`tierline.accepted`: record it; says whether the request was known."""
        return self.record(parse_report(arguments))

    def record(self, report: Report) -> dict[str, Any]:
        """An acceptance (whole, partial, cumulative partial) or a dismissal, checked already."""
        request_id = self._aliases.get(report.request_id, report.request_id)
        report = Report(request_id, report.kind, report.chars, report.total)
        now = self._clock()
        if report.kind == DISMISS:
            self._guard(lambda fates: fates.settle(request_id, Fate.DISMISSED, now), None)
            self._forget(request_id)
            return {"recorded": True, "request_id": request_id, "fate": Fate.DISMISSED.value}
        shown = self._shown.get(request_id)
        typed = shown.typed if shown is not None else ""
        result = self._guard(lambda fates: fates.accepted(report, now, len(typed)), None)
        if result is None:
            return {"recorded": False, "request_id": request_id, "reason": "unknown request (or the ledger is down)"}
        accepted_chars, _ = result
        group = self._group_of.get(request_id)
        if group is not None:  # the user chose this item: the others of its group were not chosen
            self._guard(lambda fates: fates.settle_group(group, request_id, now), None)
        if shown is not None:
            self._waiting = [w for w in self._waiting if w.request_id != request_id]
            given = shown.text[len(typed) : len(typed) + accepted_chars]
            at = shown.offset + len(typed.encode("utf-8"))
            self._waiting.append(_Waiting(request_id, shown.uri, at, given, now, list(self.checkpoints_s)))
            del self._waiting[:-MAX_REMEMBERED]
        return {"recorded": True, "request_id": request_id, "accepted_chars": accepted_chars}

    def displayed(self, request_id: str) -> bool:
        """`textDocument/didShowCompletion`: the editor displayed this item. False: not one of ours."""
        request_id = self._aliases.get(request_id, request_id)
        return bool(self._guard(lambda fates: fates.displayed(request_id), False))

    # -- from the documents ---------------------------------------------------------------------
    def document_changing(self, uri: str, source: bytes) -> None:
        """A change to ``uri`` is about to apply: checkpoints due by now are measured on ``source``,
        the text as it has been since the previous change (so as it was at the checkpoint)."""
        if self._waiting:
            self._check(uri, source, force=False)

    # The name the server used before checkpoints: measuring after the change is the same when
    # nothing else changed; kept for callers that only see the new text.
    document_changed = document_changing

    def document_closing(self, uri: str, source: bytes) -> None:
        """The last look at the document: every checkpoint still to come is measured on the text as
        closed; what was shown and never accepted was ignored."""
        self._check(uri, source, force=True)
        self._supersede(uri, self._clock())
        self._latest.pop(uri, None)

    # -- internals ------------------------------------------------------------------------------
    def _supersede(self, uri: str, now: float) -> None:
        previous = self._latest.get(uri)
        if previous is None:
            return
        members = [item for item, group in self._group_of.items() if group == previous] or [previous]

        def settle(fates: FateLedger) -> None:
            for item in members:
                fates.settle(item, Fate.IGNORED, now)

        self._guard(settle, None)

    def _forget(self, request_id: str) -> None:
        self._shown.pop(request_id, None)
        self._waiting = [w for w in self._waiting if w.request_id != request_id]

    def _check(self, uri: str, source: bytes, *, force: bool) -> None:
        now = self._clock()
        for waiting in [w for w in self._waiting if w.uri == uri]:
            due = [s for s in waiting.checkpoints if force or now >= waiting.accepted_at + s]
            if not due:
                continue
            kept = retained_chars(waiting.text, source, waiting.offset)
            for after_s in due:
                self._record_retained(waiting.request_id, kept, after_s)
            waiting.checkpoints = [s for s in waiting.checkpoints if s not in due]
        self._waiting = [w for w in self._waiting if w.checkpoints]

    def _record_retained(self, request_id: str, kept: int, after_s: int) -> None:
        self._guard(lambda fates: fates.retained(request_id, kept, after_s), None)


__all__ = [
    "CHECKPOINTS_S",
    "RETENTION_S",
    "AcceptanceTracker",
    "BadAcceptance",
    "FateLedger",
    "Report",
    "ShownRow",
    "acceptance_figures",
    "acceptance_summary",
    "empty_acceptance",
    "empty_summary",
    "parse_report",
    "retained_chars",
    "retention_key",
]
