"""Run the sandbox in-process behind httpx, with no socket.

A thin wrapper over ``httpx.ASGITransport``: its one job is to make the
commit-then-fail "drop" fault look exactly as it does over a socket, an
``httpx.RemoteProtocolError``.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from starlette.types import ASGIApp

from reconciler.sandbox.problems import ConnectionDropped

__all__ = ["in_process_transport"]


class _InProcessTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp, on_close: Callable[[], None] | None) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._on_close = on_close

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None

    async def aclose(self) -> None:
        await self._inner.aclose()
        if self._on_close is not None:
            self._on_close()


def in_process_transport(
    app: ASGIApp, on_close: Callable[[], None] | None = None
) -> httpx.AsyncBaseTransport:
    """An httpx transport that serves requests from ``app`` in this process.

    ``on_close`` runs when the transport closes (with its client): the place
    to close the sandbox's database.
    """
    return _InProcessTransport(app, on_close)
