"""The data-tools sandbox's own settings, beside the shared fault knobs.

The shared ``SandboxConfig`` (``reconciler.sandbox.config``) covers what
every API can suffer: latency, 5xx, 429, job delay and failure, commit then
fail. These are what only this server has: how long a session lives, whether
its cookies are https-only (Django outside debug mode), and which of the
upstream project's known bugs the sandbox plays (FACTS.md §7), so a client's
messages for them can be tried.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = ["DatatoolsKnobs", "UpstreamBug"]

# "access_check": every job create is a 400 (HEAD's access check hits a missing field);
# "datasource_lookup": jobs are created but all fail (the worker looks the datasource up
# by name); "broker_down": the job row is saved, never queued, and the answer is a 400.
UpstreamBug = Literal["none", "access_check", "datasource_lookup", "broker_down"]


@dataclass(frozen=True)
class DatatoolsKnobs:
    """Settings of one data-tools sandbox; change them with ``replace``."""

    session_ttl_s: float = 14 * 24 * 3600  # Django's default session age: two weeks
    secure_cookies: bool = False  # True: both cookies carry Secure (DJANGO_DEBUG off)
    upstream_bug: UpstreamBug = "none"
    retention_days: float = 7  # EXPORT_FILE_RETENTION_DAYS: how long a job's file lasts

    def __post_init__(self) -> None:
        if self.session_ttl_s <= 0 or self.retention_days < 0:
            raise ValueError("session_ttl_s must be > 0 and retention_days >= 0")
        if not isinstance(self.secure_cookies, bool):
            raise ValueError("secure_cookies must be true or false")
        if self.upstream_bug not in get_args(UpstreamBug):
            raise ValueError(f"upstream_bug must be one of {', '.join(get_args(UpstreamBug))}")

    def replace(self, **changes: Any) -> DatatoolsKnobs:
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown data-tools knob(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
