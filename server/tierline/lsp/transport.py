"""The stdio transport: read LSP messages in the event loop, write them to stdout."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from typing import Optional

from pygls.io_ import StdoutWriter, run_async

from tierline.lsp.server import TierlineServer, server

log = logging.getLogger(__name__)


async def _read_stdio(ls: TierlineServer) -> None:
    """pygls' stdio reader hands every header line and body to a thread (several thread hops a
    message); reading the pipe in the event loop removes them from each keystroke's latency."""
    loop = asyncio.get_running_loop()
    assert ls._stop_event is not None
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    try:
        await run_async(
            stop_event=ls._stop_event,
            reader=reader,
            protocol=ls.protocol,
            logger=log,
            error_handler=ls.report_server_error,
        )
    except asyncio.IncompleteReadError:
        pass  # the editor closed the pipe mid-message


def serve(tcp: Optional[str] = None) -> None:
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
        return
    if not stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode) and not stat.S_ISSOCK(
        os.fstat(sys.stdin.fileno()).st_mode
    ):
        server.start_io()  # a file or a terminal: the event loop cannot watch it
        return
    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    try:
        asyncio.run(_read_stdio(server))
    except (BrokenPipeError, KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
