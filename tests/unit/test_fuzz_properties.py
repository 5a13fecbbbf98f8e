"""Property tests (hypothesis): random edit sequences in utf-16 and utf-8 against a reference text,
post-processing invariants, and redaction round trips."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.privacy import SAMPLES
from tests.helpers.reference import Reference
from tierline.analysis.documents import Document
from tierline.completion import postprocess
from tierline.privacy.redaction import PLACEHOLDER_PREFIX, redact_text
from tierline.prompt.window import PromptWindow

CHARS = st.sampled_from(list("ab \t(){}\n") + ["\r\n", "😀", "漢", "é", "e\u0301", "𝔘", "\ufffd"])
TEXT = st.lists(CHARS, max_size=30).map("".join)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def edit_sequences(draw: st.DrawFn) -> tuple[str, list[tuple[float, float, bool, str]]]:
    initial = draw(TEXT)
    edits = draw(
        st.lists(
            st.tuples(
                st.floats(0, 1),  # where the range starts, as a share of the text
                st.floats(0, 1),  # its length, as a share of what follows
                st.booleans(),  # a range edit (True) or the whole text
                TEXT,
            ),
            max_size=25,
        )
    )
    return initial, edits


def _position_index(text: str, share: float) -> int:
    return _not_inside_crlf(text, int(share * len(text)))


def _not_inside_crlf(text: str, index: int) -> int:
    if 0 < index < len(text) and text[index - 1 : index + 1] == "\r\n":
        index -= 1  # the editor has no position between \r and \n
    return index


def _check_edits(encoding: str, initial: str, edits: list[tuple[float, float, bool, str]]) -> None:
    document = Document("file:///p.py", "python", 1, initial.encode("utf-8"))
    reference = Reference(initial, encoding)
    for start_share, length_share, ranged, new in edits:
        if not ranged:
            document.apply_change(None, None, new, encoding)
            reference.text = new
        else:
            text = reference.text
            start = _position_index(text, start_share)
            end = _not_inside_crlf(text, start + int(length_share * (len(text) - start)))
            a, b = reference.position(start), reference.position(end)
            document.apply_change(a, b, new, encoding)
            reference.apply(a, b, new)
        assert document.source.decode("utf-8") == reference.text
        # The line index agrees with the text after every edit.
        assert list(document.line_starts) == [0] + [i + 1 for i, byte in enumerate(document.source) if byte == 0x0A]


@SETTINGS
@given(edit_sequences())
def test_random_edits_in_utf16_match_the_reference(case):
    _check_edits("utf-16", *case)


@SETTINGS
@given(edit_sequences())
def test_random_edits_in_utf8_match_the_reference(case):
    _check_edits("utf-8", *case)


@SETTINGS
@given(TEXT, st.integers(0, 40), st.integers(0, 80))
def test_positions_past_the_end_clamp_like_the_editor(text, line, character):
    document = Document("file:///p.py", "python", 1, text.encode("utf-8"))
    lines = text.split("\n")
    content = lines[line].removesuffix("\r") if line < len(lines) else ""
    boundaries = {len(content[:i].encode("utf-8")) for i in range(len(content) + 1)}
    for encoding in ("utf-16", "utf-8"):
        if encoding == "utf-8" and character < len(content.encode("utf-8")) and character not in boundaries:
            continue  # inside a character: no editor sends that position
        offset = document.offset_at(line, character, encoding)
        assert document.source[:offset].decode("utf-8") == text[: Reference(text, encoding).index(line, character)]


WINDOW_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=120)


@SETTINGS
@given(WINDOW_TEXT, WINDOW_TEXT, WINDOW_TEXT, st.booleans())
def test_cleaning_invariants(raw, prefix, suffix, single_line):
    window = PromptWindow("python", "p.py", prefix, suffix)
    cleaned = postprocess.clean(raw, window, single_line)
    reason = postprocess.invalid_reason(raw, cleaned, window)
    assert isinstance(cleaned, str)
    if cleaned:
        assert cleaned.strip() and cleaned == cleaned.rstrip()
        assert all(line == line.rstrip() for line in cleaned.split("\n"))
        assert "\r\n" not in cleaned
    else:
        assert reason is not None  # nothing usable is never shown as an answer
    if single_line:
        assert "\n" not in cleaned
    assert reason is None or isinstance(reason, str)


@SETTINGS
@given(st.text(alphabet="abcxyz(){}=: \n", max_size=60), st.sampled_from(["python", "", "js"]))
def test_a_fenced_answer_cleans_like_its_body(body, language):
    window = PromptWindow("python", "p.py", "def f():\n", "")
    fenced = f"```{language}\n{body}\n```"
    if "```" not in body:
        assert postprocess.clean(fenced, window, False) == postprocess.clean(body, window, False)


@SETTINGS
@given(WINDOW_TEXT, st.sampled_from([text for _, text, _ in SAMPLES]), WINDOW_TEXT)
def test_redaction_round_trips_and_hides_the_secret(before, sample, after):
    text = f"{before}\n{sample}\n{after}"
    redacted, redaction = redact_text(text)
    assert redaction.restore(redacted) == text
    assert redaction.hide(text) == redacted
    assert redaction.count >= 1 and PLACEHOLDER_PREFIX in redacted
    for secret in redaction.secrets.values():
        assert secret not in redacted
