"""The simulated user (devtools/quality.py): skill against hidden difficulty, deterministic draws."""

from __future__ import annotations

from tierline.devtools.quality import QualityModel

CHEAP, MID = "qwen/qwen-2.5-coder-32b-instruct", "anthropic/claude-haiku-4.5"
EASY = "def add(a, b):\n    "
HARD = (
    "fn push(&self) {\n"
    + "    tail.compare_exchange_weak(t, n, Ordering::SeqCst, Ordering::Relaxed);\n" * 6
    + "\t\t\t\t"
)


def test_cheap_answers_are_accepted_less_often_on_hard_positions_than_mid_ones():
    quality = QualityModel()
    easy_gap = quality.judge(MID, EASY, "", "python").probability - quality.judge(CHEAP, EASY, "", "python").probability
    hard_gap = quality.judge(MID, HARD, "", "rust").probability - quality.judge(CHEAP, HARD, "", "rust").probability
    assert quality.difficulty(HARD, "rust") > quality.difficulty(EASY, "python")
    assert easy_gap < 0.05
    assert hard_gap > 0.4


def test_a_hidden_language_offset_makes_every_position_of_that_language_harder():
    quality = QualityModel()
    before = quality.judge(CHEAP, EASY, "", "go").probability
    quality.configure({"language_offsets": {"go": 0.45}})
    assert quality.judge(CHEAP, EASY, "", "go").probability < before - 0.3
    assert quality.judge(CHEAP, EASY, "", "python").probability == before


def test_verdicts_are_deterministic_and_found_by_the_text_shown():
    first, second = QualityModel(), QualityModel()
    answers = [f"```python\n    result = tl_x_{i:04x}(value)\n```" for i in range(200)]
    verdicts = [first.record(a, CHEAP, f"x = {i}\n", "", "python").accept for i, a in enumerate(answers)]
    again = [second.record(a, CHEAP, f"x = {i}\n", "", "python").accept for i, a in enumerate(answers)]
    assert verdicts == again
    assert 0.6 < sum(verdicts) / len(verdicts) < 1.0
    # The server shows the answer cleaned: no fence, its own indentation.
    assert first.verdict_for("result = tl_x_0007(value)") == verdicts[7]
    assert first.verdict_for("tl_x_0007(value)") == verdicts[7]  # typed through "result = "
    assert first.verdict_for("something else") is None
    assert first.verdict_for("   ") is None
