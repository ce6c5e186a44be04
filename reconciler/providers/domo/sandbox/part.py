"""Domo's share of the sandbox: the served part, and the embedded one behind ``--sandbox``.

Both keep Domo's data in its own file beside the given one
(``provider_file``), accept the developer token ``DOMO_DEVELOPER_TOKEN``
names (``sandbox`` when it is unset) and need no other credential. The
embedded one also creates the DataSets the manifest names, so a first
``plan --sandbox`` needs no setup.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.providers.base import SandboxPart
from reconciler.providers.domo.client import DomoClient
from reconciler.providers.domo.connect import TOKEN_VARIABLE
from reconciler.providers.domo.kinds import PROVIDER
from reconciler.providers.domo.sandbox.app import (
    ADMIN_PREFIX,
    API_PREFIX,
    create_app,
    sandbox_service,
)
from reconciler.providers.domo.sandbox.settings import DomoSandboxSettings
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.files import provider_file
from reconciler.sandbox.transport import in_process_transport

__all__ = ["SANDBOX_BASE_URL", "embedded_client", "sandbox_part"]

# The in-process sandbox needs a URL; nothing resolves or connects to this host.
SANDBOX_BASE_URL = "http://domo-sandbox.invalid"


def _token_source() -> str:
    if os.environ.get(TOKEN_VARIABLE):
        return TOKEN_VARIABLE
    return f"the default token 'sandbox' ({TOKEN_VARIABLE} unset)"


def sandbox_part(db_path: Path, config: SandboxConfig, clock: SandboxClock) -> SandboxPart:
    """The Domo export API and its admin routes, on the shared faults' knobs and clock."""
    app = create_app(provider_file(db_path, PROVIDER), config=config, clock=clock)
    source = _token_source()

    def describe(root_url: str) -> str:
        return (
            f"Domo export API on {root_url}{API_PREFIX} (set DOMO_BASE_URL={root_url}; "
            f"developer token from {source}; DataSets via {root_url}{ADMIN_PREFIX}/datasets)"
        )

    return SandboxPart((API_PREFIX, ADMIN_PREFIX), app, describe, sandbox_service(app).store.close)


def embedded_client(
    db_path: Path, datasets: Iterable[str], parallelism: int
) -> tuple[DomoClient, Callable[[], None]]:
    """A client of the in-process sandbox with ``datasets`` created; and its closer."""
    settings = DomoSandboxSettings.from_env()
    problem = None
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        app = create_app(
            provider_file(db_path, PROVIDER), config=SandboxConfig(), settings=settings
        )
        service = sandbox_service(app)
        for dataset_id in datasets:
            service.create_dataset(dataset_id, rows=1000, columns=None, readable=True)
    except (OSError, sqlite3.Error) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem:  # raised outside the except block: the message says it all
        raise ConfigError(
            f"Cannot open the Domo sandbox database beside {str(db_path)!r} ({problem}). "
            "Pass a writable file path to --sandbox."
        )
    client = DomoClient(
        SANDBOX_BASE_URL,
        settings.token,
        transport=in_process_transport(app),
        parallelism=parallelism,
    )
    return client, service.store.close
