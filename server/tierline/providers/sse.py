"""Server-sent events, line by line (https://html.spec.whatwg.org/multipage/server-sent-events.html).

Providers differ in what they put around `data:`: comments as keep-alives (`: OPENROUTER
PROCESSING`), `event:` names (Anthropic), a space after the colon or none. One parser reads them all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class SseEvent:
    data: str
    event: str = ""


class SseParser:
    """Feed lines (without their line break); an event comes out at each blank line."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""

    def line(self, line: str) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            if self._data and _complete(self._data):
                # A server that never sends the blank line between events (seen behind some
                # proxies): a complete JSON value already pending is its own event.
                pending = self._dispatch()
                self._data.append(value)
                return pending
            self._data.append(value)
        elif name == "event":
            self._event = value
        # id:, retry: and unknown fields are of no use to a completion.
        return None

    def flush(self) -> SseEvent | None:
        """The body ended: an event not closed by a blank line still counts."""
        return self._dispatch()

    def _dispatch(self) -> SseEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SseEvent("\n".join(self._data), self._event)
        self._data, self._event = [], ""
        return event


def _complete(data: list[str]) -> bool:
    text = "\n".join(data)
    if text == "[DONE]":
        return True
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
