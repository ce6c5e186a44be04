"""``apply_plan``: the whole apply of one plan, safety checks to results.

Order matters and is the point of this module: safety rules first (nothing
sent; the one place they are checked), then the caller's approval, then
preflight (dry runs only), then execution. Whatever happens during
execution, what succeeded comes back as data (``ApplyResult``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.apply.execute import ExecuteOptions, Salts, execute
from reconciler.apply.preflight import new_salts, preflight
from reconciler.apply.result import ActionResult, ApplyResult, Outcome, ScopeResult
from reconciler.apply.safety import check_safety
from reconciler.plan import Plan
from reconciler.progress import Progress
from reconciler.providers.base import Providers

__all__ = ["SKIPPED_PREFLIGHT", "ApplyOptions", "apply_plan"]

SKIPPED_PREFLIGHT = "skipped: preflight failed, nothing was changed"


@dataclass(frozen=True)
class ApplyOptions:
    """Everything the CLI flags decide about one apply."""

    max_deletes: int | None = None
    execute: ExecuteOptions = field(default_factory=ExecuteOptions)


async def apply_plan(
    providers: Providers,
    plan: Plan,
    *,
    options: ApplyOptions,
    progress: Progress,
    approve: Callable[[Plan], None] | None = None,
    interrupt: asyncio.Event | None = None,
) -> ApplyResult:
    """Apply ``plan``; ``ApplyRefusedError`` if a safety rule forbids it.

    ``approve`` is asked once the safety rules passed and before anything is
    sent (the CLI's "Do you want to apply?"); it raises to stop. Once
    ``interrupt`` is set nothing new is sent (see ``execute``). Preflight
    failures come back in the result (every change skipped), so the caller
    renders them like any other outcome.
    """
    check_safety(plan, max_deletes=options.max_deletes)
    if approve is not None:
        approve(plan)
    salts: Salts = new_salts(plan)
    failures = await preflight(providers, plan, salts)
    if failures:
        progress.close()
        return ApplyResult(_all_skipped(plan, SKIPPED_PREFLIGHT), failures)
    scopes = await execute(
        providers, plan, salts, options=options.execute, progress=progress, interrupt=interrupt
    )
    return ApplyResult(scopes)


def _all_skipped(plan: Plan, reason: str) -> tuple[ScopeResult, ...]:
    return tuple(
        ScopeResult(
            sp.scope,
            tuple(
                ActionResult(
                    sp.scope, c.key, c.action, c.type, Outcome.SKIPPED, reason, c.resource_id
                )
                for c in sp.changes
                if c.action.is_change
            ),
        )
        for sp in plan.scopes
    )
