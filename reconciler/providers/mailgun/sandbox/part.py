"""Mailgun's share of the sandbox: served with the others, or in process for ``--sandbox``.

Its data lives in a file of its own beside the given database
(``reconciler.sandbox.files.provider_file``), so its tables never meet
another provider's.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import httpx

from reconciler.errors import ConfigError
from reconciler.providers.base import SandboxPart
from reconciler.providers.mailgun.sandbox.app import (
    ADMIN_PREFIX,
    API_PREFIX,
    DEFAULT_API_KEY,
    FILES_PREFIX,
    create_app,
    sandbox_service,
)
from reconciler.providers.mailgun.section import PROVIDER
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.files import provider_file
from reconciler.sandbox.transport import in_process_transport

__all__ = ["DEFAULT_API_KEY", "open_in_process", "sandbox_part"]


def sandbox_part(db_path: Path, config: SandboxConfig, clock: SandboxClock) -> SandboxPart:
    """The exports API, its files and admin routes, sharing the server's faults and clock."""
    app = create_app(provider_file(db_path, PROVIDER), config=config, clock=clock)
    source = (
        "MAILGUN_API_KEY"
        if os.environ.get("MAILGUN_API_KEY")
        else "the default key sandbox (MAILGUN_API_KEY unset)"
    )

    def describe(root_url: str) -> str:
        return (
            f"Mailgun exports API on {root_url}{API_PREFIX} (Basic auth api:KEY, the key "
            f"from {source}; set MAILGUN_BASE_URL={root_url})"
        )

    prefixes = (API_PREFIX, FILES_PREFIX, ADMIN_PREFIX)
    return SandboxPart(prefixes, app, describe, sandbox_service(app).store.close)


def open_in_process(db_path: Path, config: SandboxConfig) -> httpx.AsyncBaseTransport:
    """A transport to the sandbox in this process, closing its database with the client."""
    try:
        app = create_app(provider_file(db_path, PROVIDER), config=config)
    except (OSError, sqlite3.Error) as error:
        raise ConfigError(
            f"Cannot open the Mailgun sandbox beside {str(db_path)!r} "
            f"({type(error).__name__}: {error}). Pass a writable file path to --sandbox."
        ) from None
    return in_process_transport(app, on_close=sandbox_service(app).store.close)
