"""A loopback stand-in for a LiteLLM proxy's budget endpoints, in front of the simulator.

LiteLLM's `/key/info` and `/team/info` need its Postgres database (and a Prisma client generated
over the network): without it the real proxy answers them with HTTP 500 ("Database not
connected"), which tests/e2e/test_gateway_budget.py checks against the real proxy. So the budget
figures come from here, in the shapes LiteLLM's source returns them
(litellm/proxy/management_endpoints/key_management_endpoints.py `info_key_fn`:
`{"key": <the key asked about>, "info": {key_alias, spend, max_budget, team_id, budget_reset_at,
...}}`; team_endpoints.py `team_info`: `{"team_id", "team_info": {team_alias, spend, max_budget,
...}, "keys": [...], "team_memberships": [...]}`), and both ask for the key in the
Authorization header as the proxy does. Model calls (`POST /v1/...`) are passed on to the
simulator and counted: what reaches "the gateway".
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass
class GatewayState:
    key: str
    upstream: str  # the simulator's root, e.g. http://127.0.0.1:1234
    key_info: Any = None  # a payload (JSON-encoded), or bytes sent as they are
    team_info: Any = None
    slow_s: float = 0.0  # /key/info answers after this long (a gateway that stalls)
    reads: list[str] = field(default_factory=list)  # the budget paths asked for
    calls: list[str] = field(default_factory=list)  # the model calls passed on
    authorizations: list[str] = field(default_factory=list)


def _handler(state: GatewayState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a slow answer)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            state.reads.append(url.path)
            state.authorizations.append(self.headers.get("authorization", ""))
            if self.headers.get("authorization") != f"Bearer {state.key}":
                self._send(
                    401, json.dumps({"error": {"message": "Authentication Error", "type": "auth_error"}}).encode()
                )
                return
            if url.path == "/key/info":
                if state.slow_s:
                    time.sleep(state.slow_s)  # the stalling gateway itself, not test synchronisation
                self._payload(state.key_info)
            elif url.path == "/team/info":
                team_id = parse_qs(url.query).get("team_id", [""])[0]
                payload = state.team_info
                if isinstance(payload, dict) and payload.get("team_id") != team_id:
                    self._send(404, b'{"error": {"message": "Team not found", "type": "not_found_error"}}')
                    return
                self._payload(payload)
            else:
                self._send(404, b'{"detail": "Not Found"}')

        def _payload(self, payload: Any) -> None:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self._send(200, body)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            state.calls.append(self.path)
            upstream = httpx.post(
                state.upstream + self.path, content=body, headers={"content-type": "application/json"}, timeout=30
            )
            self._send(upstream.status_code, upstream.content, upstream.headers.get("content-type", "application/json"))

    return Handler


@contextmanager
def gateway_stub(state: GatewayState) -> Iterator[str]:
    """The stub's root URL while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def key_info(
    key: str, *, alias: str = "dev-laptop", spend: Any = 0.0, max_budget: Any = None, team_id: Any = None
) -> dict[str, Any]:
    """`/key/info`'s answer, as LiteLLM's `info_key_fn` builds it (the fields tierline reads, and
    a few it does not)."""
    return {
        "key": key,  # LiteLLM echoes the key it was asked about
        "info": {
            "key_name": "sk-...abcd",
            "key_alias": alias,
            "spend": spend,
            "max_budget": max_budget,
            "budget_duration": "30d",
            "budget_reset_at": "2027-01-01T00:00:00+00:00",
            "team_id": team_id,
            "models": [],
            "tpm_limit": None,
            "rpm_limit": None,
            "metadata": {},
            "blocked": None,
            "status": "active",
        },
    }


def team_info(team_id: str, *, alias: str = "platform", spend: Any = 0.0, max_budget: Any = None) -> dict[str, Any]:
    """`/team/info`'s answer, as LiteLLM's `team_info` builds it."""
    return {
        "team_id": team_id,
        "team_info": {
            "team_id": team_id,
            "team_alias": alias,
            "spend": spend,
            "max_budget": max_budget,
            "budget_duration": None,
            "models": [],
            "blocked": False,
        },
        "keys": [],
        "team_memberships": [],
    }
