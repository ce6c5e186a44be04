"""Run the sandbox in-process behind httpx, with no socket.

A thin wrapper over ``httpx.ASGITransport``: its one job is to make the
commit-then-fail "drop" fault look exactly as it does over a socket, an
``httpx.RemoteProtocolError``.
"""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

from reconciler.sandbox.problems import ConnectionDropped

__all__ = ["in_process_transport"]


class _InProcessTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None

    async def aclose(self) -> None:
        await self._inner.aclose()


def in_process_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """An httpx transport that serves requests from ``app`` in this process."""
    return _InProcessTransport(app)
