"""The stdio transport: read LSP messages in the event loop, write them to stdout."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from typing import Optional

from pygls.io_ import StdoutWriter

from tierline.lsp.framing import HEADER_LIMIT_BYTES, Dispatcher, FatalFrame, FrameReader
from tierline.lsp.server import TierlineServer, server

log = logging.getLogger(__name__)


async def _read_stdio(ls: TierlineServer) -> int:
    """pygls' stdio reader hands every header line and body to a thread (several thread hops a
    message); reading the pipe in the event loop removes them from each keystroke's latency.
    Frames are read defensively (`framing`): bad input is answered or skipped, never fatal."""
    loop = asyncio.get_running_loop()
    assert ls._stop_event is not None
    reader = asyncio.StreamReader(limit=HEADER_LIMIT_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    dispatcher = Dispatcher(ls.protocol)
    frames = FrameReader(reader)
    stop = ls._stop_event
    while stop is None or not stop.is_set():
        try:
            body = await frames.next()
        except FatalFrame as error:
            # Exit cleanly so the editor restarts the server; say why where the editor shows stderr.
            log.error("client input: %s; exiting so the editor restarts the server", error)
            print(f"tierline: {error}; exiting so the editor restarts the server", file=sys.stderr)
            return 1
        if body is None:
            return 0  # the editor closed the pipe
        dispatcher.handle(body)
    return 0


def serve(tcp: Optional[str] = None) -> int:
    """Run until the editor goes; the exit status (1: the input could not be read any further)."""
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
        return 0
    if not stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode) and not stat.S_ISSOCK(
        os.fstat(sys.stdin.fileno()).st_mode
    ):
        server.start_io()  # a file or a terminal: the event loop cannot watch it
        return 0
    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    status = 0
    try:
        status = asyncio.run(_read_stdio(server))
    except (BrokenPipeError, KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
    return status
