"""Drive a real `tierline serve` over stdio the way an editor does (for the demo and benchmarks)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types
from pygls.lsp.client import BaseLanguageClient, LanguageClient  # type: ignore[attr-defined,unused-ignore]


def initialize_params(
    encoding: str = "utf-16", options: Any = None, root_uri: str | None = None
) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=types.ClientCapabilities(
            general=types.GeneralClientCapabilities(position_encodings=[encoding]),
            window=types.WindowClientCapabilities(show_message=types.ShowMessageRequestClientCapabilities()),
        ),
        root_uri=root_uri,
        initialization_options=options,
    )


@dataclass
class Completion:
    text: str | None
    route: dict[str, Any] | None
    command: dict[str, Any] | None = None  # the item's command: what the editor runs on acceptance
    # Every item given (alternatives of an invoked request): {"text", "command"} each, in order.
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class EditorSession:
    """One LSP client talking to one server process."""

    client: BaseLanguageClient
    versions: dict[str, int] = field(default_factory=dict)
    routes: list[dict[str, Any]] = field(default_factory=list)
    shown_messages: list[Any] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        """`window/showMessage` texts the server sent."""
        return [m.message for m in self.shown_messages]

    @classmethod
    async def start(
        cls,
        env: Mapping[str, str],
        *,
        encoding: str = "utf-16",
        initialization_options: Any = None,
        root_uri: str | None = None,
        log_file: str | None = None,
    ) -> EditorSession:
        client = LanguageClient("tierline-driver", "1")
        session = cls.attach(client)
        args = ["-m", "tierline", "serve"] + (["--log-file", log_file] if log_file else [])
        await client.start_io(sys.executable, *args, env={**os.environ, **env})
        await client.initialize_async(initialize_params(encoding, initialization_options, root_uri))
        client.initialized(types.InitializedParams())
        return session

    @classmethod
    def attach(cls, client: BaseLanguageClient) -> EditorSession:
        """Wrap a client (pygls' or pytest-lsp's) and collect what the server tells the editor."""
        session = cls(client)

        @client.feature("tierline/didRoute")
        def on_route(params: Any) -> None:
            session.routes.append(_plain(params))

        collected = getattr(client, "messages", None)
        if isinstance(collected, list):
            # pytest-lsp's client already collects them.
            session.shown_messages = collected
        else:

            @client.feature(types.WINDOW_SHOW_MESSAGE)
            def on_message(params: types.ShowMessageParams) -> None:
                session.shown_messages.append(params)

        return session

    def replace(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """Replace a range (delete with text="")."""
        self.versions[uri] += 1
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(*start), types.Position(*end)), text=text
        )
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[change],
            )
        )

    def open(self, uri: str, text: str, language_id: str) -> None:
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)
            )
        )

    def type_text(self, uri: str, line: int, character: int, text: str) -> None:
        """Insert text at a position (one incremental change)."""
        self.replace(uri, (line, character), (line, character), text)

    def settings(self, settings: Any) -> None:
        """The editor's `tierline` settings, replacing the previous ones (as VS Code and Neovim send
        them); the server applies them before the next request."""
        self.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"tierline": settings})
        )

    async def complete(self, uri: str, line: int, character: int, automatic: bool = False) -> Completion:
        before = len(self.routes)
        kind = types.InlineCompletionTriggerKind.Automatic if automatic else types.InlineCompletionTriggerKind.Invoked
        result = await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
                context=types.InlineCompletionContext(trigger_kind=kind),
            )
        )
        items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
        text = items[0].insert_text if items else None
        if not isinstance(text, str) and text is not None:
            text = text.value
        # The server notifies before it answers, so the route is already here.
        route = self.routes[-1] if len(self.routes) > before else None
        given = [_item(item) for item in items]
        return Completion(text, route, given[0]["command"] if given else None, given)

    async def command(self, name: str, *arguments: Any) -> Any:
        result = await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(arguments))
        )
        return _plain(result)

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 10)
            self.client.exit(None)
        finally:
            await self.client.stop()


def _item(item: types.InlineCompletionItem) -> dict[str, Any]:
    text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
    command = None
    if item.command is not None:
        arguments = _plain(list(item.command.arguments or []))
        command = {"title": item.command.title, "command": item.command.command, "arguments": arguments}
    return {"text": text, "command": command}


def _plain(value: Any) -> Any:
    """pygls hands back attrs-like objects for unknown JSON; turn them into dicts and lists."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return {k: _plain(v) for k, v in vars(value).items()}
    return value
