"""Keep full garbage collections off the keystroke path.

The server holds ~70,000 long-lived objects from its imports (pygls, lsprotocol, tree-sitter,
httpx). CPython's oldest-generation collection walks all of them: measured 27.5 ms, paid by
whichever keystroke happens to trigger it. Once the server is set up, those objects are moved to
the permanent generation (`gc.freeze`), so collections only walk what requests create.
"""

from __future__ import annotations

import gc


class HeapSettler:
    """`after_setup` once everything is loaded; `after_first_call` once the lazily imported HTTP
    stack is in memory too (both cheap: a freeze moves lists, it does not walk them)."""

    def __init__(self) -> None:
        self._first_call_done = False

    def after_setup(self) -> None:
        gc.collect()  # garbage from the imports is freed, not frozen
        gc.freeze()

    def after_first_call(self) -> None:
        if not self._first_call_done:
            self._first_call_done = True
            gc.freeze()
