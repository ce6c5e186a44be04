"""Mammoth's sandbox on a loopback socket, as most integration tests use it.

The core, CLI and apply tests drive a real provider end to end; Mammoth's is
the one they use, so its server and store are at hand here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from reconciler.providers.mammoth.sandbox.app import API_PREFIX, create_app, sandbox_service
from reconciler.providers.mammoth.sandbox.credentials import SandboxCredentials
from reconciler.providers.mammoth.sandbox.store import Store
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.server import serve_app_in_thread

__all__ = ["RunningSandbox", "serve_in_thread"]


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


@contextmanager
def serve_in_thread(
    db_path: str | Path,
    config: SandboxConfig | None = None,
    seed_file: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    credentials: SandboxCredentials | None = None,
    **server_options: Any,
) -> Iterator[RunningSandbox]:
    """Run Mammoth's sandbox on ``host:port`` until the block ends (sandbox/sandbox)."""
    accepted = credentials if credentials is not None else SandboxCredentials()
    app = create_app(db_path, config, seed_file, accepted)
    try:
        with serve_app_in_thread(app, host, port, **server_options) as root_url:
            yield RunningSandbox(app, root_url)
    finally:
        sandbox_service(app).store.close()
