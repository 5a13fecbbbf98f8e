"""The code that was really there: the simulator's answer key for `tierline bench`.

`tierline bench` hides code that exists and asks models for it. The simulator has no model, so it
finds the hidden code itself: it is given the repository (``tierline simulator --oracle DIR``),
looks up where the request's prefix ends and its suffix starts, and answers with what lies between
when the model is good enough for that position, else with its usual made-up call. How good a
model is comes from `devtools/quality.py`: the model's *skill* (by tier unless set) against the
position's hidden *difficulty* (indentation, tricky code above the cursor, and how long the hidden
code is: a block body is harder to get exactly right than the rest of a line). The draw is one per
position, shared by the models, so a model that knows the answer is never beaten by a weaker one
on the same position: on easy positions every tier answers; on hard ones only the strong ones.
"""

from __future__ import annotations

import os
from pathlib import Path

from tierline.devtools.quality import SHARPNESS, QualityModel, _unit, sigmoid
from tierline.prompt.window import CURSOR_MARKER

# How much of the prefix and the suffix locate the position in a file (the window may be cut).
PREFIX_KEY = 160
SUFFIX_KEY = 160
LONGEST_ANSWER = 4000
CHAT_INSTRUCTION = f"Complete the code at {CURSOR_MARKER}.\n"  # prompt/window.py:chat_messages
# Longer hidden code is harder to get exactly right: per line after the first, per character.
PER_EXTRA_LINE = 0.05
PER_CHAR = 0.001
MAX_FILE_BYTES = 1_000_000
SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", "target"})


class Oracle:
    """The texts of a directory's files, searched for the code between a prefix and a suffix."""

    def __init__(self, root: Path):
        self.root = root
        self._texts: list[str] | None = None

    def _files(self) -> list[str]:
        if self._texts is None:
            texts = []
            for directory, dirs, files in os.walk(self.root):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for name in sorted(files):
                    path = Path(directory) / name
                    try:
                        if path.stat().st_size <= MAX_FILE_BYTES:
                            texts.append(path.read_text(encoding="utf-8"))
                    except (OSError, UnicodeDecodeError):
                        continue
            self._texts = texts
        return self._texts

    def hidden(self, prefix: str, suffix: str) -> str | None:
        """The code a file holds between this prefix and this suffix, or None (not found)."""
        prefix = prefix.rpartition(CHAT_INSTRUCTION)[2]  # a chat prompt's code starts after its instruction
        key = prefix[-PREFIX_KEY:]
        head = suffix[:SUFFIX_KEY]
        if not key:
            return None
        for text in self._files():
            start = text.find(key)
            while start >= 0:
                end = start + len(key)
                if not head.strip():
                    return text[end : end + LONGEST_ANSWER].rstrip()
                found = text.find(head, end)
                if 0 <= found - end <= LONGEST_ANSWER:
                    return text[end:found]
                start = text.find(key, start + 1)
        return None

    def answer(
        self, quality: QualityModel, model_id: str, prefix: str, suffix: str, language: str | None
    ) -> str | None:
        """The hidden code if this model gets this position right, else None (its usual answer)."""
        truth = self.hidden(prefix, suffix)
        if truth is None or not truth.strip():
            return None
        difficulty = quality.difficulty(prefix, language) + PER_EXTRA_LINE * truth.strip().count("\n")
        difficulty += PER_CHAR * len(truth.strip())
        chance = sigmoid(SHARPNESS * (quality.skill(model_id) - difficulty))
        draw = _unit(quality.seed, "bench", prefix[-400:], suffix[:200])
        return truth if draw < chance else None


__all__ = ["Oracle"]
