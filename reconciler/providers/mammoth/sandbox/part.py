"""Mammoth's share of the sandbox server: its API and admin routes over one database."""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.providers.base import SandboxPart
from reconciler.providers.mammoth.sandbox.app import (
    ADMIN_PREFIX,
    API_PREFIX,
    FILES_PREFIX,
    create_app,
    sandbox_service,
)
from reconciler.providers.mammoth.sandbox.seed import SeedError
from reconciler.sandbox.config import SandboxConfig

__all__ = ["sandbox_part"]


def sandbox_part(db_path: Path, config: SandboxConfig, seed_file: Path | None) -> SandboxPart:
    """The Mammoth API sandbox; a bad seed file is a ``ConfigError`` saying where."""
    try:
        app = create_app(db_path, config, seed_file)
    except SeedError as error:
        raise ConfigError(f"{error}. Fix the seed file and start again.") from None
    source = (
        "MAMMOTH_API_KEY/MAMMOTH_API_SECRET"
        if os.environ.get("MAMMOTH_API_KEY")
        else "the default sandbox/sandbox (MAMMOTH_API_KEY/MAMMOTH_API_SECRET unset)"
    )

    def describe(root_url: str) -> str:
        return f"Mammoth API on {root_url}{API_PREFIX} (credentials from {source})"

    return SandboxPart(
        (API_PREFIX, ADMIN_PREFIX, FILES_PREFIX), app, describe, sandbox_service(app).store.close
    )
