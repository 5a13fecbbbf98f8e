"""Turn a model's raw answer into the text to insert, and judge whether it is usable code."""

from __future__ import annotations

import re

from tierline.prompt.window import PromptWindow

_FENCE = re.compile(r"^\s*```[\w+#.-]*\s*$")
# Lines models write around code: "Here is the completion:", "Sure! ...", "Note: ...".
_PROSE_LINE = re.compile(
    r"^\s*(here('s| is| are)|sure|certainly|of course|i('m| am| can| cannot|'ll| will| apologize)|sorry|"
    r"note:|explanation|this (code|completion|function|will)|the (code|completion) )",
    re.IGNORECASE,
)
_APOLOGY = re.compile(r"\b(sorry|apologi[sz]e|as an ai|i can(no|')t (help|assist))\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BRACKETS = {")": "(", "]": "[", "}": "{"}


def strip_fences(raw: str) -> str:
    """The body of the first fenced block, if the answer has one; else the answer."""
    lines = raw.split("\n")
    starts = [i for i, line in enumerate(lines) if _FENCE.match(line)]
    if not starts:
        return raw
    first = starts[0]
    close = next((i for i in starts[1:] if i > first), len(lines))
    return "\n".join(lines[first + 1 : close])


def strip_prose(text: str) -> str:
    """Drop explanation lines before and after the code."""
    lines = text.split("\n")
    while lines and _PROSE_LINE.match(lines[0]):
        lines.pop(0)
    # A blank line followed by prose ends the code part.
    for i in range(1, len(lines)):
        if not lines[i - 1].strip() and _PROSE_LINE.match(lines[i]):
            lines = lines[: i - 1]
            break
    return "\n".join(lines)


# A sentence of explanation: a capitalised word, then words, ending in a full stop; no code punctuation.
_SENTENCE = re.compile(r"^\s*[A-Z][a-z']*(\s+[\w'`,/-]+){3,}[.!:]\s*$")
_CODE_CHARS = re.compile(r"[(){}\[\];=<>]|^\s*(#|//|--|/\*|\*)")
_TRIPLE_QUOTES = re.compile(r'"""|\'\'\'')
# Restated lines shorter than this (closing braces, `else:`) prove nothing about a restatement.
_MIN_RESTATED_CHARS = 5
_MAX_RESTATED_LINES = 40


def strip_trailing_prose(text: str) -> str:
    """Prose right after code, without a blank line ("return x\nThis returns the total."): cut there.
    Lines inside a docstring or block string are code, whatever they say."""
    lines = text.split("\n")
    in_string = False
    for i, line in enumerate(lines):
        if i and not in_string and lines[i - 1].strip() and _is_prose(line):
            return "\n".join(lines[:i])
        if len(_TRIPLE_QUOTES.findall(line)) % 2:
            in_string = not in_string
    return text


def _is_prose(line: str) -> bool:
    if _CODE_CHARS.search(line):
        return False
    return bool(_PROSE_LINE.match(line) or _SENTENCE.match(line))


def strip_restated_lines(text: str, prefix: str) -> str:
    """Models restate the enclosing `def` or the lines just before the cursor before the new code:
    whole leading lines of the answer equal to the prefix's last complete lines are dropped."""
    earlier = prefix.split("\n")[:-1]
    lines = text.split("\n")
    most = min(len(earlier), len(lines) - 1, _MAX_RESTATED_LINES)
    for count in range(most, 0, -1):
        head = [line.strip() for line in lines[:count]]
        if head == [line.strip() for line in earlier[-count:]] and len("".join(head)) >= _MIN_RESTATED_CHARS:
            return "\n".join(lines[count:])
    return text


def reindent(text: str, line_prefix: str) -> str:
    """The cursor sits after indentation; an answer written from column 0 ("for x in y:\n    z")
    gets that indentation on its following lines, so its block lands where the first line does."""
    if not line_prefix or line_prefix.strip() or text[:1] in (" ", "\t"):
        return text
    first, newline, rest = text.partition("\n")
    later = [line for line in rest.split("\n") if line.strip()]
    if not newline or not later:
        return text
    if min(len(line) - len(line.lstrip()) for line in later) >= len(line_prefix):
        return text  # already written at the file's indentation
    return first + "\n" + "\n".join(line_prefix + line if line.strip() else line for line in rest.split("\n"))


def strip_repeated_prefix(text: str, line_prefix: str) -> str:
    """Models often restate the current line; keep only what comes after the cursor."""
    typed = line_prefix.lstrip()
    body = text.lstrip()
    if typed.strip() and body.startswith(typed):
        return body[len(typed) :]
    if typed.strip() and body.startswith(typed.rstrip()):
        # "x = " typed, "x =foo" or "x = foo" answered: keep one space, the one already typed.
        return body[len(typed.rstrip()) :].lstrip(" ")
    return text


def strip_repeated_suffix(text: str, suffix: str) -> str:
    """Drop the end of the completion that repeats the text already after the cursor."""
    line_suffix = suffix.split("\n", 1)[0].strip()
    if line_suffix:
        first_line, newline, rest = text.partition("\n")
        if first_line.rstrip().endswith(line_suffix):
            first_line = first_line.rstrip()[: -len(line_suffix)]
            text = first_line + newline + rest
    # Whole lines at the end that equal the lines after the cursor.
    after = [line.strip() for line in suffix.split("\n") if line.strip()]
    lines = text.split("\n")
    for count in range(min(len(lines) - 1, len(after)), 0, -1):
        tail = [line.strip() for line in lines[-count:]]
        if tail == after[:count]:
            lines = lines[:-count]
            break
    return "\n".join(lines)


def first_line_complete(partial: str) -> bool:
    """While streaming a single-line completion: is its first line of code complete?"""
    text = partial.lstrip("\n")
    first, newline, rest = text.partition("\n")
    if _FENCE.match(first):
        if not newline:
            return False
        first, newline, rest = rest.lstrip("\n").partition("\n")
    return bool(newline) and bool(first.strip())


def cut_lines(text: str, max_lines: int) -> str:
    """At most `max_lines` lines, counted from the first that is not blank (a completion at the end
    of a line may start on the next one: that line break is kept); 0 = no limit."""
    if max_lines <= 0:
        return text
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    return "\n".join(lines[: first + max_lines])


def clean(raw: str, window: PromptWindow, single_line: bool) -> str:
    """The text to insert at the cursor, or "" when nothing usable is left."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_fences(text)
    text = strip_prose(text)
    text = strip_trailing_prose(text)
    text = strip_restated_lines(text, window.prefix)
    text = strip_repeated_prefix(text, window.current_line_prefix)
    if not window.current_line_prefix.strip():
        # The cursor sits after indentation already typed: do not indent twice.
        indent = window.current_line_prefix
        if indent and text.startswith(indent):
            text = text[len(indent) :]
        else:
            text = reindent(text, indent)
    else:
        text = text.lstrip("\n") if single_line else text
    text = strip_repeated_suffix(text, window.suffix)
    if single_line:
        text = text.lstrip("\n").split("\n", 1)[0]
    text = cut_lines(text, window.max_lines)
    text = "\n".join(line.rstrip() for line in text.split("\n")).rstrip()
    return text if text.strip() else ""


def invalid_reason(raw: str, cleaned: str, window: PromptWindow) -> str | None:
    """Why an answer is not usable code (and should go to another model), or None."""
    if not cleaned:
        if raw.strip() and all(_FENCE.match(line) or not line.strip() for line in raw.split("\n")):
            return "only fences"
        if _APOLOGY.search(raw):
            return "prose or apology instead of code"
        return "empty after cleaning"
    if _APOLOGY.search(cleaned) or _PROSE_LINE.match(cleaned):
        return "prose or apology instead of code"
    if _CONTROL.search(cleaned):
        return "control characters"
    if _is_repetition_loop(cleaned):
        return "repetition loop"
    if _unexplained_brackets(cleaned, window):
        return "unbalanced brackets"
    return None


def _is_repetition_loop(text: str) -> bool:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) >= 6 and len(set(lines)) <= max(1, len(lines) // 4):
        return True
    # One short token repeated on a line: "foo foo foo foo foo foo ..."
    words = text.split()
    return len(words) >= 12 and len(set(words)) <= 2


def _bracket_balance(text: str) -> dict[str, int]:
    """Opens minus closes per bracket kind, ignoring string literals roughly."""
    text = re.sub(r"(\"(\\.|[^\"\\])*\"|'(\\.|[^'\\])*')", "", text)
    balance = {"(": 0, "[": 0, "{": 0}
    for char in text:
        if char in balance:
            balance[char] += 1
        elif char in _BRACKETS:
            balance[_BRACKETS[char]] -= 1
    return balance


def _unexplained_brackets(cleaned: str, window: PromptWindow) -> bool:
    """Closing brackets the code before the cursor never opened, or far more opens than closes."""
    completion = _bracket_balance(cleaned)
    context = _bracket_balance(window.prefix)
    for opener, net in completion.items():
        if net < 0 and context[opener] + net < 0:
            return True
        if net > 3:
            return True
    return False
