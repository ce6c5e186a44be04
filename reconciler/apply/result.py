"""What apply did, as plain data: one entry per planned change, per scope.

The engine returns an ``ApplyResult`` even when it fails part way, so the CLI
can say exactly what was applied, what failed and what was skipped (Terraform's
``Context.Apply`` returns the new state alongside its diagnostics). Renderers
work from this data only; nothing here prints.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum

from reconciler.errors import ApiError, ExportctlError, JobFailedError
from reconciler.model import Scope
from reconciler.plan import Action

__all__ = [
    "ActionResult",
    "ApplyResult",
    "Failure",
    "Outcome",
    "PreflightFailure",
    "ScopeResult",
]


class Outcome(Enum):
    """How one planned change ended."""

    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"


# 4xx answers that mean "not now" or "not any more", not "never": a change to
# an export deleted since it was listed (404) is planned afresh by a rerun.
_NOT_REFUSALS = frozenset({404, 408, 409, 425, 429})


class Failure(Enum):
    """Whether running apply again can cure a failed change: what the summary advises."""

    REFUSED = "refused"  # the server said no (a 4xx, a failed job): fix the cause first
    TRANSIENT = "transient"  # busy, unreachable, unfinished or lost: a rerun may finish it

    @classmethod
    def of(cls, error: ExportctlError) -> Failure:
        """Judged from what the error already carries: its HTTP status, or a failed job."""
        if isinstance(error, JobFailedError):
            return cls.REFUSED
        status = error.status_code if isinstance(error, ApiError) else None
        if status is not None and 400 <= status < 500 and status not in _NOT_REFUSALS:
            return cls.REFUSED
        return cls.TRANSIENT


@dataclass(frozen=True)
class ActionResult:
    """The end of one planned change.

    ``resource_id`` is the resource's id afterwards (the new id for an add, the
    run for a snapshot), or the id it had when it could not be changed.
    ``message`` is the human half of the progress line ("created as export
    17", "failed: ..."); it is built from redacted data only. ``failure`` is
    set when the outcome is ``FAILED``.
    """

    scope: Scope
    key: str
    action: Action
    type: str
    outcome: Outcome
    message: str
    resource_id: str | None = None
    job_id: str | None = None
    failure: Failure | None = None


@dataclass(frozen=True)
class PreflightFailure:
    """One add or edit whose ``validate_only: true`` dry run did not pass.

    ``failure`` tells a refusal (fix first) from a dry run that got no verdict
    (busy, throttled, unreachable: apply again later); nothing was changed either way.
    """

    scope: Scope
    key: str
    action: Action
    status_code: int | None
    detail: str
    failure: Failure


@dataclass(frozen=True)
class ScopeResult:
    """The results of one scope's changes, in the order they were planned."""

    scope: Scope
    actions: tuple[ActionResult, ...]

    def counts(self) -> Counter[Outcome]:
        return Counter(a.outcome for a in self.actions)

    @property
    def failed(self) -> bool:
        return any(a.outcome is Outcome.FAILED for a in self.actions)


@dataclass(frozen=True)
class ApplyResult:
    """Everything apply did. ``ok`` is what picks exit code 0 or 1."""

    scopes: tuple[ScopeResult, ...]
    preflight_failures: tuple[PreflightFailure, ...] = ()

    def actions(self) -> tuple[ActionResult, ...]:
        return tuple(a for sr in self.scopes for a in sr.actions)

    def counts(self) -> Counter[Outcome]:
        return Counter(a.outcome for a in self.actions())

    @property
    def ok(self) -> bool:
        return not self.preflight_failures and not any(sr.failed for sr in self.scopes)
