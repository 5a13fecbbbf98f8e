"""The "shown" and "partially accepted" notifications other completion servers define, checked.

GitHub's copilot-language-server (and the clients written for it: copilot.vim, copilot.el,
CopilotChat, the denops and Emacs plugins) has the editor report an inline completion's life with
the item's command plus two notifications:

* ``textDocument/didShowCompletion`` ``{"item": InlineCompletionItem}`` — the item was displayed;
* ``textDocument/didPartiallyAcceptCompletion`` ``{"item": InlineCompletionItem, "acceptedLength": N}``
  — N characters of the item's text are accepted so far (cumulative, as VS Code's
  ``handleDidPartiallyAcceptCompletionItem`` reports it, not the last piece).

The item is the one the server gave, sent back whole or in part: tierline finds its id in
``item.command.arguments[0]`` (the ``tierline.accepted`` argument), or in ``item.id`` for a client
that keeps only an id. Everything here is editor input: any JSON at all, checked into a clear
error (``BadAcceptance``), never an exception of another kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierline.accounting.acceptance import MAX_CHARS, MAX_REQUEST_ID, BadAcceptance, Report
from tierline.wire import CMD_ACCEPTED

DID_SHOW = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"
# The Report kind of a cumulative partial acceptance (acceptedLength).
ACCEPTED_LENGTH = "length"


def plain(value: Any, depth: int = 0) -> Any:
    """pygls hands unknown methods' params over as named tuples or attribute objects: plain JSON
    values, as deep as an item goes (a hostile payload nested deeper is cut off, not recursed)."""
    if depth > 8:
        return None
    if hasattr(value, "_asdict"):
        value = value._asdict()
    elif not isinstance(value, (Mapping, list, tuple, str, int, float, bool)) and value is not None:
        value = getattr(value, "__dict__", None)
    if isinstance(value, Mapping):
        return {str(k): plain(v, depth + 1) for k, v in list(value.items())[:64]}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in list(value)[:16]]
    return value


def item_id(params: Any, method: str) -> str:
    """The tierline item id the notification's ``item`` carries."""
    data = plain(params)
    item = data.get("item") if isinstance(data, dict) else None
    if not isinstance(item, dict):
        raise BadAcceptance(f"{method}: params must be {{item, ...}} with the item tierline gave")
    command = item.get("command")
    found: Any = None
    if isinstance(command, dict) and command.get("command") == CMD_ACCEPTED:
        arguments = command.get("arguments")
        if isinstance(arguments, list) and arguments:
            found = arguments[0]
    if found is None:
        found = item.get("id")
    if not isinstance(found, str) or not 0 < len(found) <= MAX_REQUEST_ID:
        raise BadAcceptance(f"{method}: the item carries no tierline id (command {CMD_ACCEPTED} [id], or id)")
    return found


def partial_report(params: Any) -> Report:
    """`didPartiallyAcceptCompletion`: a cumulative partial acceptance of ``acceptedLength`` characters."""
    identifier = item_id(params, DID_PARTIALLY_ACCEPT)
    data = plain(params)
    length = data.get("acceptedLength") if isinstance(data, dict) else None
    if isinstance(length, bool) or not isinstance(length, int) or not 0 <= length <= MAX_CHARS:
        raise BadAcceptance(f"{DID_PARTIALLY_ACCEPT}: acceptedLength must be a whole number >= 0, got {length!r:.40}")
    return Report(identifier, ACCEPTED_LENGTH, length, total=True)


__all__ = ["ACCEPTED_LENGTH", "DID_PARTIALLY_ACCEPT", "DID_SHOW", "item_id", "partial_report", "plain"]
