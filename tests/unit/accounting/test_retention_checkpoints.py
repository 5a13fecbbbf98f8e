"""Retention at 30 s, 2, 5 and 10 minutes (accounting/acceptance.py), with a clock the test moves:
each checkpoint is measured on the text as it was when it came due, and summed into shares."""

from __future__ import annotations

from pathlib import Path

from tierline.accounting.acceptance import AcceptanceTracker, FateLedger, ShownRow

URI = "file:///work/a.py"
BEFORE = b"def f(x):\n    "
TEXT = "return compute(value)"
AFTER = b"\n"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def tracker_on(tmp_path: Path) -> tuple[AcceptanceTracker, FateLedger, Clock]:
    fates = FateLedger(tmp_path)
    clock = Clock()
    tracker = AcceptanceTracker(lambda action, fallback: action(fates), clock=clock)
    return tracker, fates, clock


def accept(tracker: AcceptanceTracker, request_id: str, tier: str = "cheap") -> None:
    tracker.shown(ShownRow(request_id, "python", tier, "m", 0.2, False, len(TEXT)), URI, len(BEFORE), TEXT)
    assert tracker.report([request_id])["recorded"]


def columns(fates: FateLedger, request_id: str) -> tuple[int | None, ...]:
    row = (
        fates._conn()
        .execute(
            "SELECT retained_30s, retained_120s, retained_300s, retained_600s, retained_chars FROM fates"
            " WHERE request_id = ?",
            (request_id,),
        )
        .fetchone()
    )
    return tuple(row)


def test_each_checkpoint_sees_the_text_as_it_was_when_it_came_due(tmp_path):
    tracker, fates, clock = tracker_on(tmp_path)
    accept(tracker, "r1")
    kept = BEFORE + TEXT.encode() + AFTER
    half = BEFORE + b"return " + AFTER  # "compute(value)" deleted
    gone = BEFORE + b"pass" + AFTER

    clock.now += 10
    tracker.document_changing(URI, kept)  # nothing due yet
    assert columns(fates, "r1") == (None, None, None, None, None)
    clock.now += 100  # 110 s: the 30 s checkpoint is due; the text until now was all of it
    tracker.document_changing(URI, kept)
    assert columns(fates, "r1") == (len(TEXT), None, None, None, len(TEXT))
    clock.now += 20  # 130 s: 2 min due; the user had deleted half at 110 s
    tracker.document_changing(URI, half)
    clock.now += 1_000  # 1130 s: 5 and 10 min due at once, both on the text since 130 s
    tracker.document_changing(URI, gone)

    assert columns(fates, "r1") == (len(TEXT), len("return "), 0, 0, len(TEXT))
    summary = fates.summary()
    assert summary["overall"]["retained"] == {
        "30s": 1.0,
        "120s": round(len("return ") / len(TEXT), 4),
        "300s": 0.0,
        "600s": 0.0,
    }
    assert summary["overall"]["retained_chars"] == len(TEXT)  # the 30 s one, as before


def test_closing_measures_every_checkpoint_still_to_come_on_the_text_as_closed(tmp_path):
    tracker, fates, clock = tracker_on(tmp_path)
    accept(tracker, "r1", "cheap")
    accept(tracker, "r2", "premium")  # the same place: both measured against the same text
    clock.now += 200
    tracker.document_changing(URI, BEFORE + TEXT.encode() + AFTER)
    tracker.document_closing(URI, BEFORE + b"return " + AFTER)

    assert columns(fates, "r1") == (len(TEXT), len(TEXT), len("return "), len("return "), len(TEXT))
    by_tier = fates.summary()["by_tier"]
    assert by_tier["premium"]["retained"]["30s"] == 1.0
    assert by_tier["premium"]["retained"]["600s"] == round(len("return ") / len(TEXT), 4)


def test_shares_count_only_acceptances_measured_at_that_checkpoint(tmp_path):
    tracker, fates, clock = tracker_on(tmp_path)
    accept(tracker, "r1")
    clock.now += 31
    tracker.document_changing(URI, BEFORE + TEXT.encode() + AFTER)

    retained = fates.summary()["overall"]["retained"]
    assert retained == {"30s": 1.0, "120s": None, "300s": None, "600s": None}


def test_a_ledger_from_before_checkpoints_keeps_its_rows_and_its_30_s_measure(tmp_path):
    import sqlite3

    from tierline.accounting.ledger import Ledger

    with sqlite3.connect(tmp_path / Ledger.FILENAME) as db:
        db.executescript(
            "CREATE TABLE fates (request_id TEXT PRIMARY KEY, ts REAL NOT NULL, day TEXT NOT NULL, language TEXT NOT"
            " NULL, tier TEXT NOT NULL, model TEXT NOT NULL, score REAL, cached INTEGER NOT NULL, shown_chars INTEGER"
            " NOT NULL, fate TEXT NOT NULL, accepted_chars INTEGER NOT NULL DEFAULT 0, retained_chars INTEGER,"
            " decided_ts REAL);"
            "INSERT INTO fates VALUES ('r1', 1.0, '1970-01-01', 'python', 'cheap', 'm', 0.2, 0, 10, 'accepted', 10, 8,"
            " 2.0);"
        )
    db.close()
    fates = FateLedger(tmp_path)

    assert fates.summary()["overall"]["retained"] == {"30s": 0.8, "120s": None, "300s": None, "600s": None}
    assert columns(fates, "r1") == (8, None, None, None, 8)
