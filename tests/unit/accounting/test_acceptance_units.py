"""accounting/acceptance.py on its own: argument checks, retention, a broken ledger, the summary."""

from __future__ import annotations

import pytest

from tierline.accounting.acceptance import (
    AcceptanceTracker,
    BadAcceptance,
    FateLedger,
    Report,
    ShownRow,
    parse_report,
    retained_chars,
)


def test_reports_are_parsed_and_checked():
    assert parse_report(["abc"]) == Report("abc")
    assert parse_report(["abc", None]) == Report("abc")
    assert parse_report(["abc", {"kind": "word", "chars": 4}]) == Report("abc", "word", 4)
    assert parse_report(["abc", {"kind": "dismiss"}]) == Report("abc", "dismiss")
    for bad in ([], [None], [""], ["abc", "word"], ["abc", {"kind": "word", "chars": True}], ["abc", {"kind": 1}]):
        with pytest.raises(BadAcceptance):
            parse_report(bad)


def test_retained_characters_follow_the_text_not_its_position():
    text = "result = compute(value)"
    kept = b"def f():\n    x = 1\n    " + text.encode() + b"\n"
    assert retained_chars(text, kept, kept.index(b"result")) == len(text)
    moved = b"# a new comment above\n" + kept  # an edit before it moves it
    assert retained_chars(text, moved, kept.index(b"result")) == len(text)
    edited = kept.replace(b"compute(value)", b"other()")
    assert retained_chars(text, edited, kept.index(b"result")) == len("result = ")  # "(" and ")" alone are chance
    assert retained_chars(text, b"def f():\n    pass\n", 13) == 0


def test_a_broken_ledger_never_raises_into_the_server():
    def broken(action, fallback):
        return fallback  # what Books.with_fates does after logging the fault

    tracker = AcceptanceTracker(broken)
    tracker.shown(ShownRow("r1", "python", "cheap", "m", 0.1, False, 5), "file:///a.py", 0, "hello")
    assert tracker.report(["r1"])["recorded"] is False
    tracker.document_closing("file:///a.py", b"hello")


def test_the_summary_divides_all_spend_by_accepted_characters(tmp_path):
    fates = FateLedger(tmp_path)
    fates.shown(ShownRow("r1", "python", "cheap", "m1", 0.1, False, 10), 1000.0)
    fates.shown(ShownRow("r2", "go", "mid", "m2", 0.5, False, 20), 1000.0)
    fates.accepted(Report("r1", "word", 4), 1001.0)
    db = fates._conn()
    db.execute("CREATE TABLE calls (tier TEXT, model TEXT, language TEXT, day TEXT, cost_usd REAL)")
    db.execute("INSERT INTO calls VALUES ('cheap', 'm1', 'python', '1970-01-01', 0.002)")
    db.execute("INSERT INTO calls VALUES ('mid', 'm2', 'go', '1970-01-01', 0.01)")

    summary = fates.summary()

    assert summary["overall"] == {
        "shown": 2,
        "accepted": 1,
        "rate": 0.5,
        "accepted_chars": 4,
        "retained_chars": 0,
        "cost_per_accepted_char_usd": round(0.012 / 4, 10),
        "retained": {"30s": None, "120s": None, "300s": None, "600s": None},  # nothing measured yet
    }
    assert summary["by_tier"]["cheap"]["cost_per_accepted_char_usd"] == round(0.002 / 4, 10)
    assert summary["by_tier"]["mid"]["cost_per_accepted_char_usd"] is None
    assert summary["by_language"]["go"]["rate"] == 0.0
    assert summary["by_model"]["m1"]["accepted_chars"] == 4
