"""Serve the sandbox on a real socket: in a background thread, or in the foreground.

The thread form is what tests use (httpx's own ``server`` fixture habit):
uvicorn on a socket bound before the thread starts, so port 0 works and the
URL is known at once.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from reconciler.providers.mammoth.sandbox.app import API_PREFIX, create_app, sandbox_service
from reconciler.providers.mammoth.sandbox.store import Store
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.drop import DroppingH11Protocol

__all__ = [
    "RunningSandbox",
    "bind_socket",
    "run_forever",
    "serve_app_in_thread",
    "serve_in_thread",
    "uvicorn_server",
]

_START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox listening on a socket; what the ``sandbox`` test fixture yields."""

    app: Starlette
    root_url: str

    @property
    def base_url(self) -> str:
        return self.root_url + API_PREFIX

    @property
    def config(self) -> SandboxConfig:
        return sandbox_service(self.app).faults.config

    @property
    def store(self) -> Store:
        return sandbox_service(self.app).store

    def set_faults(self, **knobs: Any) -> SandboxConfig:
        """Change fault knobs now; the fault random stream restarts from the seed."""
        return sandbox_service(self.app).faults.reconfigure(**knobs)


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


def uvicorn_server(app: Starlette, log_level: str = "warning", **options: Any) -> uvicorn.Server:
    """uvicorn serving the sandbox; ``options`` are more ``uvicorn.Config`` settings."""
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        http=DroppingH11Protocol,
        timeout_graceful_shutdown=1,
        **options,
    )
    return _QuickServer(config)


def _url(sock: socket.socket, scheme: str) -> str:
    host, port = sock.getsockname()[:2]
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


@contextmanager
def serve_app_in_thread(
    app: Starlette, host: str = "127.0.0.1", port: int = 0, **server_options: Any
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


@contextmanager
def serve_in_thread(
    db_path: str | Path,
    config: SandboxConfig | None = None,
    seed_file: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    **server_options: Any,
) -> Iterator[RunningSandbox]:
    """Run the sandbox on ``host:port`` until the block ends (see ``serve_app_in_thread``)."""
    app = create_app(db_path, config, seed_file)
    try:
        with serve_app_in_thread(app, host, port, **server_options) as root_url:
            yield RunningSandbox(app, root_url)
    finally:
        sandbox_service(app).store.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.002)


def run_forever(app: Starlette, sock: socket.socket) -> None:
    """Serve in the foreground until Ctrl-C (uvicorn handles the signals)."""
    uvicorn_server(app, log_level="info").run(sockets=[sock])
