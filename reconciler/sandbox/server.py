"""Serve the sandbox on a real socket: in a background thread, or in the foreground.

The thread form is what tests use (httpx's own ``server`` fixture habit):
uvicorn on a socket bound before the thread starts, so port 0 works and the
URL is known at once. Any ASGI app can be served: one provider's sandbox, or
all of them together (``reconciler.sandbox.combined``).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from reconciler.sandbox.drop import DroppingH11Protocol

__all__ = ["bind_socket", "run_forever", "serve_app_in_thread", "uvicorn_server"]

_START_TIMEOUT_S = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class _QuickServer(uvicorn.Server):
    """uvicorn's server, noticing ``should_exit`` within 10 ms instead of 100 ms.

    Tests start and stop a server each; uvicorn's 0.1 s tick would dominate.
    """

    async def main_loop(self) -> None:
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.01)
            should_exit = await self.on_tick(counter)


def uvicorn_server(app: ASGIApp, log_level: str = "warning", **options: Any) -> uvicorn.Server:
    """uvicorn serving the sandbox; ``options`` are more ``uvicorn.Config`` settings.

    uvicorn's own ``Date`` header is off: each provider's app sends the date of
    the sandbox clock (``reconciler.sandbox.clock``), which tests move forward,
    and a second ``Date`` would leave a client unable to read the server's time.
    """
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        http=DroppingH11Protocol,
        timeout_graceful_shutdown=1,
        **{"date_header": False, **options},
    )
    return _QuickServer(config)


def _url(sock: socket.socket, scheme: str) -> str:
    host, port = sock.getsockname()[:2]
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


@contextmanager
def serve_app_in_thread(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, **server_options: Any
) -> Iterator[str]:
    """Serve any sandbox app on ``host:port`` (0 = a free port); yields its root URL.

    ``server_options`` go to uvicorn: ``ssl_certfile`` and ``ssl_keyfile``
    serve https (tests of the client's TLS), ``timeout_keep_alive`` closes idle
    connections sooner (tests of stale keep-alive connections).
    """
    sock = bind_socket(host, port)
    server = uvicorn_server(app, **server_options)
    scheme = "https" if server_options.get("ssl_certfile") else "http"
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield _url(sock, scheme)
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT_S)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.002)


def run_forever(app: ASGIApp, sock: socket.socket) -> None:
    """Serve in the foreground until Ctrl-C (uvicorn handles the signals)."""
    uvicorn_server(app, log_level="info").run(sockets=[sock])
