"""A snippet of another file that goes into a prompt, and why it was chosen."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from tierline.prompt.tokens import estimate_tokens

DEFINITIONS = "definitions"
NEIGHBOURS = "neighbours"
RECENT_EDITS = "recent_edits"
SOURCES: tuple[str, ...] = (DEFINITIONS, NEIGHBOURS, RECENT_EDITS)


@dataclass(frozen=True)
class Snippet:
    """`path`: the file, relative to the workspace root (what the model is shown); `line`: the
    first line's number (1-based); `score`: its rank among the candidates (higher first);
    `reason`: why it was chosen, for `tierline.explain` and `tierline score --show-prompt`."""

    source: str
    path: str
    line: int
    text: str
    score: float
    reason: str

    def block(self) -> str:
        """The snippet as a marked, named block (how chat prompts carry it)."""
        return f'<snippet path="{self.path}" line="{self.line}" source="{self.source}">\n{self.text.rstrip()}\n</snippet>\n'

    @functools.cached_property
    def tokens(self) -> int:
        return estimate_tokens(self.block())

    def cut(self, tokens: int) -> Snippet | None:
        """The snippet's first whole lines that fit in `tokens`, or None when not even one line does."""
        kept: list[str] = []
        budget = tokens - estimate_tokens(self.block()) + estimate_tokens(self.text)
        for line in self.text.splitlines(keepends=True):
            if estimate_tokens("".join(kept) + line) > budget:
                break
            kept.append(line)
        if not kept or not "".join(kept).strip():
            return None
        return Snippet(self.source, self.path, self.line, "".join(kept), self.score, self.reason + " (cut to fit)")
