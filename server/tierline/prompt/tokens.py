"""How many tokens a text costs, estimated: no tokenizer is downloaded at run time."""

from __future__ import annotations

import math

# Characters per token for code: tokenizers average 3-4 on source; 3.5 over-counts slightly,
# which keeps cost estimates on the safe side.
CHARS_PER_TOKEN = 3.5


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0
