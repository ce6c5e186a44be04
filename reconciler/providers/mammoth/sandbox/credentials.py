"""The key and secret Mammoth's sandbox accepts, read as the official SDK reads them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["SandboxCredentials"]


@dataclass(frozen=True)
class SandboxCredentials:
    """``X-API-KEY`` / ``X-API-SECRET`` values; never shown in a ``repr``."""

    key: str = field(default="sandbox", repr=False)
    secret: str = field(default="sandbox", repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SandboxCredentials:
        """MAMMOTH_API_KEY / MAMMOTH_API_SECRET, else sandbox / sandbox."""
        env = os.environ if environ is None else environ
        return cls(
            env.get("MAMMOTH_API_KEY") or "sandbox", env.get("MAMMOTH_API_SECRET") or "sandbox"
        )
