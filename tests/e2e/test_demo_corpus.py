"""`tierline demo` as a newcomer sees it: plausible code per language and position, cheap and premium
answers that differ where it is hard, a typed-through row that says what was typed, and a replayed
session whose month projection is the ledger's money to the cent."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.demo import DEMO_GROUP
from tierline.commands.demo import (
    CROSS_FILE,
    CROSS_FILE_CURSOR,
    RING_CURSOR,
    SIMPLE_PY,
    SYSTEM_C,
    TESTS_PY,
    _text_before,
)
from tierline.commands.demo_replay import COMPLETIONS_PER_DAY, POSITIONS, WORKING_DAYS_PER_MONTH, bar
from tierline.devtools.corpus import corpus_completion, guess_language
from tierline.devtools.simulator import SimulatorThread
from tierline.prompt.window import CURSOR_MARKER

# The demo's run (`demo_run`, tests/conftest.py) is shared with the README's and the acceptance
# block's tests, on one worker.
pytestmark = DEMO_GROUP

CHEAP = "qwen/qwen-2.5-coder-32b-instruct"
PREMIUM = "anthropic/claude-opus-4.5"

GO_ERROR = """\
package main

import "os"

func readConfig(path string) ([]byte, error) {
\tdata, err := os.ReadFile(path)
\tif err != nil {
\t\t
\t}
\treturn data, nil
}
"""

RUST_LOOP = "\n".join(
    [
        "use std::io;",
        "",
        "fn names(lines: Vec<String>) -> io::Result<Vec<String>> {",
        "    let mut out = Vec::new();",
        "    for line in lines {",
        "        ",  # the cursor's line, indented as an editor leaves it
        "    }",
        "    Ok(out)",
        "}",
    ]
)


def at(text: str, line: int, character: int) -> tuple[str, str]:
    return _text_before(text, line, character)


def test_a_function_body_gets_code_that_fits_it():
    assert corpus_completion(CHEAP, *at(SIMPLE_PY, 5, 4), "python") == "return a + b"
    assert corpus_completion(CHEAP, *at(TESTS_PY, 12, 4), "python") == "assert add(-2, -3) == -5"


def test_each_language_gets_its_own_code_not_python():
    go = corpus_completion(PREMIUM, *at(GO_ERROR, 7, 2), "go")
    assert go == 'return nil, fmt.Errorf("ReadFile: %w", err)'
    rust = corpus_completion(PREMIUM, *at(RUST_LOOP, 5, 8), "rust")
    assert rust == "if line.is_empty() {\n            continue;\n        }\n        out.push(line);"
    # A FIM request has no language line: the code says which it is.
    assert guess_language(at(GO_ERROR, 7, 2)[0]) == "go"
    assert guess_language(at(RUST_LOOP, 5, 8)[0]) == "rust"
    assert guess_language(at(SYSTEM_C, *RING_CURSOR)[0]) == "c"


def test_cheap_and_premium_differ_where_it_is_hard_and_agree_where_it_is_easy():
    hard = at(SYSTEM_C, *RING_CURSOR)
    assert corpus_completion(CHEAP, *hard, "c") == "return NULL;"
    premium = corpus_completion(PREMIUM, *hard, "c").split("\n")
    assert [line.strip() for line in premium] == [
        'perror("munmap");',
        "pthread_mutex_unlock(&r->lock);",
        "return NULL;",
    ]
    easy = at(SIMPLE_PY, 5, 4)
    assert corpus_completion(CHEAP, *easy, "python") == corpus_completion(PREMIUM, *easy, "python")


def test_the_simulator_answers_from_the_corpus_only_when_asked():
    with SimulatorThread() as sim:
        body = {
            "model": PREMIUM,
            "messages": [
                {
                    "role": "user",
                    "content": "Language: c. File: ring.c.\n" + CURSOR_MARKER.join(at(SYSTEM_C, *RING_CURSOR)),
                }
            ],
        }
        tagged = httpx.post(f"{sim.base_url}/chat/completions", json=body).json()["choices"][0]["message"]["content"]
        assert "tl_claude_opus" in tagged  # the tests' default: the answer names its model
        sim.set_behaviour("*", corpus=True)
        plausible = httpx.post(f"{sim.base_url}/chat/completions", json=body).json()["choices"][0]["message"]["content"]
        assert plausible.startswith('```c\nperror("munmap");') and "tl_" not in plausible
        refused = httpx.post(f"{sim.base_url.removesuffix('/v1')}/_sim/behaviour", json={"corpus": "yes"})
        assert refused.status_code == 400 and "corpus must be true or false" in refused.text


def test_demo_rows_show_plausible_code_and_what_was_typed(demo_run):
    rows = demo_run["rows"]
    assert {row["tier"] for row in rows} == {"cheap", "mid", "premium"}
    assert all(row["text"] and "tl_" not in row["text"] for row in rows)
    first, typed = rows[0], rows[2]
    assert first["text"] == "return a + b"
    assert typed["typed"] == "ret" and typed["text"] == "urn a + b" and typed["cached"]
    ring = next(row for row in rows if row["where"].startswith("ring.c"))
    # The hard position is not sent cheap (the learned weights send it to mid; premium comes from escalation).
    assert ring["tier"] == "mid" and "pthread_mutex_unlock(&r->lock);" in ring["text"]
    assert demo_run["hard_position"]["cheap"] == "return NULL;"
    # Each routed row says what moved its score: at the empty body of ring.c, writing a body that closes
    # its block is what costs.
    assert [name for name, _ in ring["why"][:2]] == ["empty_body", "closes_after"]
    assert all(row["why"] for row in rows[:7] if row["score"] is not None)  # the scripted rows
    assert rows[1]["cached"] and rows[1]["cost_usd"] == 0  # the same request again: the cache
    stats = demo_run["stats"]
    assert 0 < stats["spend_usd"] < stats["premium_baseline_usd"] and stats["savings_pct"] > 0


def test_demo_shows_a_completion_right_only_with_a_definition_from_another_file(demo_run):
    row = next(row for row in demo_run["rows"] if row["step"] == "a definition from another file")
    assert row["text"] == "return polygon_area(points)" and row["tier"] == "cheap"
    # The same position without the snippet: the simulator answers something else.
    prefix, suffix = _text_before(CROSS_FILE["plot.py"], *CROSS_FILE_CURSOR)
    assert "polygon_area(points)" not in corpus_completion(str(row["model"]), prefix, suffix, "python")


def test_demo_replays_a_session_and_projects_a_month_from_the_ledger(demo_run):
    replay = demo_run["replay"]
    assert replay["positions"] == POSITIONS and replay["files"] >= 30
    assert replay["requests"] > POSITIONS  # a pause before typing, then one after a word or typing through
    assert replay["cache_hits"] > 0 and replay["typed_through"] > 0
    tiers = replay["by_tier"]
    assert set(tiers) == {"cheap", "mid", "premium"}
    assert sum(t["spend_usd"] for t in tiers.values()) == pytest.approx(replay["spend_usd"], abs=2e-6)
    assert 0 < replay["spend_usd"] < replay["premium_baseline_usd"]
    scale = COMPLETIONS_PER_DAY * WORKING_DAYS_PER_MONTH / replay["requests"]
    assert replay["month_usd"] == round(replay["spend_usd"] * scale, 2)
    assert replay["month_premium_usd"] == round(replay["premium_baseline_usd"] * scale, 2)


def test_chart_bars_are_proportional_in_eighths():
    assert bar(1.0, 1.0) == "█" * 40
    assert bar(0.5, 1.0) == "█" * 20
    assert bar(1 / 320, 1.0) == "▏"
    assert bar(0.0, 1.0) == "" and bar(1.0, 0.0) == ""


def test_tierline_demo_prints_its_figures_as_text_and_fails_when_a_row_got_no_answer(demo_run, monkeypatch, capsys):
    """`tierline demo` prints `demo_text` of the figures it measured (what the README's test reads),
    and exits 1 when a scripted request got no completion."""
    from tierline.commands import demo

    monkeypatch.setattr(demo, "demo_result", lambda: demo_run)
    assert demo.run_demo() == 0
    assert capsys.readouterr().out == demo.demo_text(demo_run) + "\n"
    unanswered = {**demo_run, "rows": [{**demo_run["rows"][0], "text": None}, *demo_run["rows"][1:]]}
    monkeypatch.setattr(demo, "demo_result", lambda: unanswered)
    assert demo.run_demo() == 1
    assert demo.run_demo(as_json=True) == 0  # the figures are still printed for a script to read
