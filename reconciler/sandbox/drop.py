"""The commit-then-fail "drop": close the client's connection with no answer.

ASGI has no way to say "close the socket", and uvicorn answers an app error
with a 500. So the server runs a small subclass of uvicorn's h11 protocol
that puts the connection's transport in a context variable; the request task
inherits it, and ``DropConnectionResponse`` aborts that transport. With no
socket (in-process, through httpx's ASGITransport) it raises
``ConnectionDropped`` instead, which ``transport.py`` turns into the
``httpx.RemoteProtocolError`` a real drop produces.
"""

from __future__ import annotations

import asyncio
import contextvars
import socket

from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from reconciler.sandbox.problems import ConnectionDropped

__all__ = ["DropConnectionResponse", "DroppingH11Protocol"]

_TRANSPORT: contextvars.ContextVar[asyncio.Transport | None] = contextvars.ContextVar(
    "sandbox_transport", default=None
)


class DroppingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, exposing the transport to the request task.

    It also turns Nagle's algorithm off: uvicorn writes headers and body
    separately and, on a socket we bound ourselves, asyncio leaves Nagle on,
    which with the client's delayed ACK costs ~40 ms per request.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        token = _TRANSPORT.set(self.transport)
        try:
            super().data_received(data)
        finally:
            _TRANSPORT.reset(token)


class DropConnectionResponse(Response):
    """Not a response: the connection closes before a single byte is sent."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = _TRANSPORT.get()
        if transport is None:
            raise ConnectionDropped("sandbox fault: connection dropped after commit")
        transport.abort()
        # Let uvicorn see connection_lost, so it does not try to answer with a 500.
        await asyncio.sleep(0)
