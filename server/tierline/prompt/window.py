"""Prompts sent to models: the windows of code around the cursor, and the chat and FIM shapes.

The windows are cut here once, so that scoring (``context_tokens``), the cache key and the request
all see the same text. The window carries the cross-file snippets chosen for it (`tierline/context`),
so the cost estimate, the cache key and the request see those too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierline.prompt.tokens import estimate_tokens

if TYPE_CHECKING:  # pragma: no cover
    from tierline.prompt.snippet import Snippet

# Marks the cursor inside the chat prompt; the simulator looks for it too.
CURSOR_MARKER = "<|cursor|>"

CHAT_SYSTEM = (
    "You are a code completion engine. Reply with only the code to insert at the cursor "
    "marker, exactly as it should appear in the file: no explanation, no Markdown, no code fences, "
    "and do not repeat code that is already before or after the cursor."
)


@dataclass(frozen=True)
class PromptWindow:
    """The code actually sent: up to ``prefix_chars`` before and ``suffix_chars`` after the cursor."""

    language: str
    filename: str
    prefix: str
    suffix: str
    # Snippets of other files of the workspace, best first, within the tier's budget (redacted).
    context: tuple[Snippet, ...] = ()
    # `[completion.languages.X] max_lines`: lines the completion may hold (0: no limit).
    max_lines: int = 0

    @property
    def current_line_prefix(self) -> str:
        return self.prefix.rsplit("\n", 1)[-1]

    @property
    def current_line_suffix(self) -> str:
        return self.suffix.split("\n", 1)[0]

    @property
    def mid_line(self) -> bool:
        """The cursor has code after it on the same line."""
        return bool(self.current_line_suffix.strip())


def cut_window(text_before: str, text_after: str, language: str, filename: str, chars: tuple[int, int]) -> PromptWindow:
    """Cut the windows (at most `chars` = (prefix, suffix) characters) at line starts where possible,
    so the model sees whole lines."""
    prefix_chars, suffix_chars = chars
    prefix = text_before[-prefix_chars:] if len(text_before) > prefix_chars else text_before
    if len(prefix) < len(text_before):
        newline = prefix.find("\n")
        if 0 <= newline < len(prefix) - 1:
            prefix = prefix[newline + 1 :]
    suffix = text_after[:suffix_chars]
    if len(suffix) < len(text_after):
        newline = suffix.rfind("\n")
        if newline > 0:
            suffix = suffix[: newline + 1]
    return PromptWindow(language=language, filename=filename, prefix=prefix, suffix=suffix)


def context_blocks(window: PromptWindow) -> str:
    """The snippets as marked, named blocks (chat and Anthropic prompts): before the file."""
    if not window.context:
        return ""
    blocks = "".join(s.block() for s in window.context)
    return f"Code from other files of the repository, for reference:\n{blocks}\n"


def comment_blocks(window: PromptWindow, comment: str) -> str:
    """The snippets as a comment-prefixed block before the code (FIM models without repository
    tokens), each headed by its path."""
    out = []
    for s in window.context:
        out.append(f"{comment} Path: {s.path}\n")
        out.extend(f"{comment} {line}".rstrip() + "\n" for line in s.text.rstrip().splitlines())
    return "".join(out)


def file_separator_blocks(window: PromptWindow, separator: str) -> str:
    """The snippets in a repository-level FIM model's own format: each file after its separator
    token and its path, then the current file's separator and path (Qwen2.5-Coder `<|file_sep|>`,
    StarCoder2 `<file_sep>`)."""
    if not window.context:
        return ""
    files = "".join(f"{separator}{s.path}\n{s.text.rstrip()}\n" for s in window.context)
    return f"{files}{separator}{window.filename}\n"


def chat_messages(window: PromptWindow) -> list[dict[str, str]]:
    user = (
        f"{context_blocks(window)}"
        f"Language: {window.language}. File: {window.filename}.\n"
        f"Complete the code at {CURSOR_MARKER}.\n"
        f"{window.prefix}{CURSOR_MARKER}{window.suffix}"
    )
    return [{"role": "system", "content": CHAT_SYSTEM}, {"role": "user", "content": user}]


def prompt_tokens(window: PromptWindow) -> int:
    """Estimate of the tokens the prompt sends (chat framing included: the larger shape), the
    cross-file snippets included."""
    return (
        estimate_tokens(CHAT_SYSTEM)
        + estimate_tokens(window.prefix)
        + estimate_tokens(window.suffix)
        + 20
        + context_tokens(window)
    )


def context_tokens(window: PromptWindow) -> int:
    """Estimate of the tokens the snippets add (their framing included)."""
    return estimate_tokens(context_blocks(window)) if window.context else 0


# Lines read past `max_lines` before hanging up: room for a fence or a restated line the cleaning drops.
MAX_LINES_SLACK = 2


def lines_complete(partial: str, max_lines: int) -> bool:
    """While streaming under `max_lines`: have enough whole lines arrived to stop reading (the
    limit, plus MAX_LINES_SLACK)? Fewer tokens are billed for an answer that would be cut anyway."""
    if max_lines <= 0:
        return False
    lines = partial.split("\n")[:-1]  # the last piece is not a whole line yet
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    return len(lines) - first >= max_lines + MAX_LINES_SLACK
