"""The one exception tree of exportctl.

Every error a user can meet is an ``ExportctlError``: a ``click.ClickException``
whose message says what went wrong, where, and what to check next, so the CLI
prints it without a traceback and exits 1 (nothing but ``plan
--detailed-exitcode`` and ``drift`` may exit 2). Anything else that escapes is a
bug and is reported as one. A subclass exists where some caller must tell its
case apart; otherwise the message alone carries the detail::

    ExportctlError
    ├── ManifestError        the manifest cannot be loaded: every problem at once, in file order
    ├── ConfigError          missing credentials; bad endpoint, proxy, flags, selectors, sandbox
    ├── ApiError             the API answered one request with an error status
    │   ├── AuthError        401/403: a credential is wrong; said once, not per scope
    │   ├── NotFoundError    404: unknown scope or resource (a delete that meets it is done)
    │   ├── MaybeLandedError a write got no usable answer and may have taken effect
    │   └── JobFailedError   the server ran a write's job and it failed: resending won't help
    ├── ApiUnreachableError  no answer at all (DNS, refused, timeout); said once, like AuthError
    ├── PlanFileError        a saved plan cannot be read or written, or no longer fits
    │   └── StalePlanError   live resources changed since the plan was made: plan again
    └── ApplyRefusedError    a safety rule refused, or approval was not given; nothing changed

``ApiUnreachableError`` is a sibling of ``ApiError``, not a child: ``except
ApiError`` handles one refused request and must never swallow an endpoint that
is down. Providers raise these classes, never their own, so the core can tell
a lost answer or a failed job apart whatever the API; ``tests/test_error_tree.py``
keeps the tree above equal to the classes below.

Messages never contain credentials or secret values: callers build them from
redacted data only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from reconciler import redaction
from reconciler.diagnostics import first_lines

if TYPE_CHECKING:
    from reconciler.diagnostics import Diagnostic

__all__ = [
    "ApiError",
    "ApiUnreachableError",
    "ApplyRefusedError",
    "AuthError",
    "ConfigError",
    "ExportctlError",
    "JobFailedError",
    "ManifestError",
    "MaybeLandedError",
    "NotFoundError",
    "PlanFileError",
    "StalePlanError",
]


class ExportctlError(click.ClickException):
    """Base of every error exportctl reports to a user.

    Its message never holds a secret the manifest gives, even when it quotes
    a server that echoed one (``reconciler.redaction``).
    """

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(redaction.scrub(message))


class ManifestError(ExportctlError):
    """The manifest has problems; ``diagnostics`` lists all of them, in file order."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        count = len(self.diagnostics)
        lines = first_lines(self.diagnostics)
        lines.append(f"{count} error{'s' if count != 1 else ''} in the manifest.")
        super().__init__("\n".join(lines))


class ConfigError(ExportctlError):
    """Configuration is missing or inconsistent (credentials, endpoint, options)."""


class ApiError(ExportctlError):
    """The API answered with an error status.

    Carries the HTTP method, the request path (never the query or headers), the
    status, the server's ``detail`` and, where known, the scope (its address)
    and manifest key the request was about.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        detail: str | None = None,
        method: str | None = None,
        path: str | None = None,
        scope: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = None if detail is None else redaction.scrub(detail)
        self.method = method
        self.path = path
        self.scope = scope
        self.key = key


class AuthError(ApiError):
    """The API refused the credentials (401/403)."""


class NotFoundError(ApiError):
    """The API does not know the scope or the resource (404)."""


class MaybeLandedError(ApiError):
    """A write got no usable answer (timeout, dropped connection, 5xx after sending).

    It may have taken effect anyway, so it is never resent blindly: apply looks
    at the live state first (``apply.landed``), or a retried add would become a
    second resource.
    """


class JobFailedError(ApiError):
    """The server ran a write's background job and it ended in failure.

    The server refused the change itself, so sending it again fails the same way.
    """


class ApiUnreachableError(ExportctlError):
    """No HTTP answer at all: the endpoint is down, unresolvable or too slow."""


class PlanFileError(ExportctlError):
    """A saved plan file is unreadable, of an unknown version, or does not fit."""


class StalePlanError(PlanFileError):
    """The live resources changed since the saved plan was made."""


class ApplyRefusedError(ExportctlError):
    """A safety rule refused to apply: ``protect``, ``--max-deletes`` or no approval."""
