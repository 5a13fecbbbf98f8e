"""LSP handlers only: each handler turns LSP types into calls on the engine and back."""

import dataclasses
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from tierline import __version__
from tierline.accounting import notifications
from tierline.accounting.acceptance import BadAcceptance
from tierline.analysis import languages
from tierline.analysis.documents import Document, DocumentStore, PositionError
from tierline.completion.pipeline import CompletionEngine
from tierline.completion.request import CursorRequest
from tierline.completion.snooze import SnoozeArgumentError
from tierline.completion.snooze import minutes_from as snooze_minutes
from tierline.config import Config, ConfigError, ConfigLayers, load_layers, refused_config, strip_editor_keys
from tierline.lsp.heap import HeapSettler
from tierline.wire import (
    CMD_ACCEPTED,
    CMD_CLEAR_CACHE,
    CMD_ESCALATE,
    CMD_EXPLAIN,
    CMD_SNOOZE,
    CMD_STATS,
    DID_ROUTE,
    DidRoute,
    ExplainResult,
    PositionPayload,
    StatsResult,
)

log = logging.getLogger(__name__)

_MESSAGE_TYPES = {
    "error": types.MessageType.Error,
    "warning": types.MessageType.Warning,
    "info": types.MessageType.Info,
}


class TierlineProtocol(LanguageServerProtocol):
    """Documents live in tierline's own store (bytes + tree-sitter tree), not in pygls' workspace:
    the tree edit needs the old text, and one copy per document is enough."""

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Iterator[Any]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Iterator[Any]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Iterator[Any]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class TierlineServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "tierline",
            __version__,
            protocol_cls=TierlineProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.documents = DocumentStore(languages.parser_for)
        self.layers = ConfigLayers()
        self.engine: Optional[CompletionEngine] = None
        self.encoding = "utf-16"
        self.pending_messages: list[tuple[str, str]] = []
        self.told_notices: set[str] = set()
        self.heap = HeapSettler()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls shows "Error in server" pop-ups for errors outside a request's answer; those come
        from malformed client input, which is logged, never shown."""
        log.warning("%s: %s", getattr(source, "__name__", source), error)

    def tell_user(self, level: str, text: str) -> None:
        if level == "log":  # the output log, not a pop-up
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=text))
            return
        self.window_show_message(types.ShowMessageParams(type=_MESSAGE_TYPES[level], message=text))

    def apply_settings(self, settings: Any) -> None:
        """New LSP settings replace the previous ones; a bad value keeps the config running now.
        They may only tighten (config/tighten.py); what they could not set is told once."""
        try:
            candidate = dataclasses.replace(self.layers, lsp_settings=strip_editor_keys(_unwrap(settings)))
            config = candidate.build()
        except ConfigError as error:
            self.tell_user("error", f"tierline: config refused, keeping the previous one. {error}")
            return
        self.layers = candidate
        self.tell_notices(config)
        if self.engine is not None:
            self.engine.reconfigure(config)

    def tell_notices(self, config: Config) -> None:
        for notice in config.notices:
            if notice not in self.told_notices:
                self.told_notices.add(notice)
                self.tell_user("warning", notice)


server = TierlineServer()


def _position_payload(position: types.Position) -> PositionPayload:
    return {"line": position.line, "character": position.character}


@server.feature(types.INITIALIZE)
def on_initialize(ls: TierlineServer, params: types.InitializeParams) -> None:
    ls.encoding = str(getattr(ls.workspace.position_encoding, "value", ls.workspace.position_encoding) or "utf-16")
    root = to_fs_path(params.root_uri) if params.root_uri else params.root_path
    workspace_root = Path(root) if root else None
    # A `workspaceTrusted` claim is ignored: anything may send it, and the trust store is written
    # only by `tierline trust` (and the editors' explicit trust commands that run it).
    options = _unwrap(params.initialization_options)
    config = _initial_config(ls, workspace_root, options)
    ls.told_notices.update(config.notices)
    ls.pending_messages.extend(("warning", notice) for notice in config.notices)
    ls.engine = CompletionEngine(config, env=os.environ, notify_user=ls.tell_user, workspace_root=workspace_root)
    _set_workspace_folders(ls)


def _set_workspace_folders(ls: TierlineServer) -> None:
    """Every workspace folder's ignore files apply under it, not only the first folder's."""
    if ls.engine is None:
        return
    folders = [Path(path) for folder in ls.workspace.folders.values() if (path := to_fs_path(folder.uri))]
    ls.engine.privacy.set_workspace(folders, lambda text: ls.tell_user("warning", text))


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def did_change_workspace_folders(ls: TierlineServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    _set_workspace_folders(ls)  # pygls has already applied the change to ls.workspace.folders


def _initial_config(ls: TierlineServer, workspace_root: Optional[Path], options: dict[str, Any]) -> Config:
    """The files, then the editor's settings. Fail closed: a refused config never puts the built-in
    cloud registry in its place; the server serves nothing and says why until it is fixed."""
    try:
        ls.layers = load_layers(workspace_root, os.environ)
        ls.layers.build()
    except ConfigError as error:
        ls.layers = dataclasses.replace(ls.layers, error=error)  # later settings cannot paper over it
        ls.pending_messages.append(("error", f"tierline: config refused, no completions until it is fixed. {error}"))
        return refused_config(error)
    try:
        ls.layers.lsp_settings = strip_editor_keys(options)
        return ls.layers.build()
    except ConfigError as error:
        ls.pending_messages.append(("error", f"tierline: settings refused, no completions until fixed. {error}"))
        return refused_config(error)


def _unwrap(options: Any) -> dict[str, Any]:
    """The `tierline` section, or the settings themselves; `[]` (Neovim's empty table) is empty."""
    if isinstance(options, dict) and "tierline" in options:
        options = options["tierline"]
    return options if isinstance(options, dict) else {}


@server.feature(types.INITIALIZED)
def on_initialized(ls: TierlineServer, params: types.InitializedParams) -> None:
    for level, text in ls.pending_messages:
        ls.tell_user(level, text)
    ls.pending_messages.clear()
    ls.heap.after_setup()
    if ls.engine is not None:
        ls.engine.context.start()  # the definitions index, built in a worker process


@server.feature(types.SHUTDOWN)
async def on_shutdown(ls: TierlineServer, params: None) -> None:
    if ls.engine is not None:
        await ls.engine.aclose()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: TierlineServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    document = ls.documents.open(
        doc.uri, languages.language_from(doc.uri, doc.language_id, doc.text), doc.version, doc.text
    )
    if ls.engine is not None:
        ls.engine.context.opened(document)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: TierlineServer, params: types.DidChangeTextDocumentParams) -> None:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return
    if ls.engine is not None:  # retention checkpoints due by now see the text as it was until this change
        ls.engine.acceptance.document_changing(document.uri, document.source)
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            start, end = change.range.start, change.range.end
            document.apply_change((start.line, start.character), (end.line, end.character), change.text, ls.encoding)
        else:
            document.apply_change(None, None, change.text, ls.encoding)
    document.version = params.text_document.version
    if ls.engine is not None:
        partial = types.TextDocumentContentChangePartial
        rows = [c.range.start.line for c in params.content_changes if isinstance(c, partial)]
        ls.engine.context.changed(document, rows)
        # A call under way that this typing makes useless is hung up on now, not at the next request.
        ls.engine.sessions.review(document.uri, document.source)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: TierlineServer, params: types.DidCloseTextDocumentParams) -> None:
    closing = ls.documents.get(params.text_document.uri)
    if closing is not None and ls.engine is not None:
        ls.engine.acceptance.document_closing(closing.uri, closing.source)
    ls.documents.close(params.text_document.uri)
    if ls.engine is not None:
        ls.engine.context.closed(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: TierlineServer, params: types.DidSaveTextDocumentParams) -> None:
    if ls.engine is not None:
        ls.engine.context.saved(params.text_document.uri)
    if ls.engine is not None:
        ls.engine.forget(params.text_document.uri)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: TierlineServer, params: types.DidChangeConfigurationParams) -> None:
    ls.apply_settings(params.settings)


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
async def inline_completion(
    ls: TierlineServer, params: types.InlineCompletionParams
) -> Optional[types.InlineCompletionList]:
    # Never await a request to the client in here (pygls #621): a cancelled handler breaks the loop.
    document = ls.documents.get(params.text_document.uri)
    if document is None or ls.engine is None:
        return types.InlineCompletionList(items=[])
    position = params.position
    try:
        offset = document.offset_at(position.line, position.character, ls.encoding)
    except PositionError as error:
        raise JsonRpcInvalidParams(f"tierline: {error}") from None
    automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
    routed = await ls.engine.complete_latest(CursorRequest(document, offset, automatic))
    if routed.route is not None:
        payload: DidRoute = {"uri": document.uri, "position": _position_payload(position), **routed.route}
        ls.protocol.notify(DID_ROUTE, payload)
        if routed.route["attempts"]:  # a model was called: the HTTP stack is loaded
            ls.heap.after_first_call()
    if not routed.text:
        return types.InlineCompletionList(items=[])
    here = types.Range(start=position, end=position)
    # Accepting runs the item's command (VS Code, Neovim 0.12, any LSP client): the fate is recorded,
    # under the item's own id (alternatives are requests of their own: completion/alternatives.py).
    first = [(routed.route["request_id"] if routed.route is not None else None, routed.text)]
    items = []
    for item_id, text in first + [(item.item_id, item.answer.text) for item in routed.alternatives]:
        accepted = None
        if item_id is not None:
            accepted = types.Command(title="tierline: accepted", command=CMD_ACCEPTED, arguments=[item_id])
        items.append(types.InlineCompletionItem(insert_text=text, range=here, command=accepted))
    return types.InlineCompletionList(items=items)


@server.command(CMD_EXPLAIN)
def explain(ls: TierlineServer, *args: Any) -> ExplainResult:
    if ls.engine is None:
        raise JsonRpcInvalidParams("tierline.explain: the server is not initialized")
    document, line, character = _explain_args(ls, args)
    return ls.engine.explain(document, document.offset_at(line, character, ls.encoding))


def _explain_args(ls: TierlineServer, args: tuple[Any, ...]) -> tuple[Document, int, int]:
    """`[uri, {line, character}]`, checked: a clear error for anything else, never a traceback."""
    usage = "tierline.explain takes [uri, {line, character}]"
    if len(args) < 2 or not isinstance(args[0], str):
        raise JsonRpcInvalidParams(usage)
    uri, position = args[0], args[1]
    line = position.get("line") if isinstance(position, dict) else getattr(position, "line", None)
    character = position.get("character") if isinstance(position, dict) else getattr(position, "character", None)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (line, character)):
        raise JsonRpcInvalidParams(f"{usage}: line and character must be whole numbers >= 0")
    assert isinstance(line, int) and isinstance(character, int)
    document = ls.documents.get(uri)
    if document is None:
        raise JsonRpcInvalidParams(f"tierline.explain: document not open: {uri[:200]}")
    if line >= len(document.line_starts):
        raise JsonRpcInvalidParams(f"tierline.explain: line {line} is past the end ({len(document.line_starts)} lines)")
    return document, line, character


@server.command(CMD_ACCEPTED)
def accepted(ls: TierlineServer, *args: Any) -> dict[str, Any]:
    """`[request_id]` or `[request_id, {"kind": "word"|"line", "chars": N}]` (accounting/acceptance.py)."""
    if ls.engine is None:
        return {"recorded": False, "reason": "not initialized"}
    result = ls.engine.acceptance.report(args)
    ls.engine.telemetry.accepted(result)  # counted by tier for the team's dashboards (opt-in)
    return result


@server.feature(notifications.DID_SHOW)
def did_show_completion(ls: TierlineServer, params: Any) -> None:
    """`{item}`: the editor displayed an item (accounting/notifications.py); bad input: one log line."""
    if ls.engine is None:
        return
    try:
        identifier = notifications.item_id(params, notifications.DID_SHOW)
    except BadAcceptance as error:
        log.warning("tierline: ignored: %s", error)
        return
    if not ls.engine.acceptance.displayed(identifier):
        log.info("tierline: %s for an item it does not know (%r)", notifications.DID_SHOW, identifier)


@server.feature(notifications.DID_PARTIALLY_ACCEPT)
def did_partially_accept_completion(ls: TierlineServer, params: Any) -> None:
    """`{item, acceptedLength}`: so much of the item is accepted so far; bad input: one log line."""
    if ls.engine is None:
        return
    try:
        answer = ls.engine.acceptance.record(notifications.partial_report(params))
    except BadAcceptance as error:
        log.warning("tierline: ignored: %s", error)
        return
    if not answer["recorded"]:
        log.info("tierline: %s: %s", notifications.DID_PARTIALLY_ACCEPT, answer.get("reason"))


@server.command(CMD_STATS)
def stats(ls: TierlineServer, *args: Any) -> StatsResult | dict[str, Any]:
    return ls.engine.stats() if ls.engine is not None else {}


@server.command(CMD_ESCALATE)
def escalate(ls: TierlineServer, *args: Any) -> dict[str, Any]:
    if ls.engine is not None:
        ls.engine.escalate_next()
    return {"escalate_next": True}


@server.command(CMD_SNOOZE)
def snooze(ls: TierlineServer, *args: Any) -> dict[str, Any]:
    """`[minutes]` (0: resume; none: 5) -> {"snoozed_until": ISO time or null} (completion/snooze.py)."""
    if ls.engine is None:
        raise JsonRpcInvalidParams("tierline.snooze: the server is not initialized")
    try:
        minutes = snooze_minutes(args)
    except SnoozeArgumentError as error:
        raise JsonRpcInvalidParams(str(error)) from None
    ls.engine.snooze.set(minutes)
    return {"snoozed_until": ls.engine.snooze.until_iso()}


@server.command(CMD_CLEAR_CACHE)
def clear_cache(ls: TierlineServer, *args: Any) -> dict[str, Any]:
    removed = ls.engine.clear_cache() if ls.engine is not None else 0
    return {"cleared": removed}


__all__ = ["server", "TierlineServer"]
