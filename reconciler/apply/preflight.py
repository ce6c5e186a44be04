"""Preflight: send every add and edit as a server-side dry run before any change.

The server knows rules no manifest check can (an unknown connection id, an S3
file already written by another export), so each write is tried as a dry run
first. All of them are tried, every refusal is collected with its server
detail, and when there is any, apply stops before mutating anything.

Each body is validated against the scope as it is now, before this apply's
deletes and edits. A refusal of a write whose destination (natural address)
another change of the plan frees first (a delete, a replace, or an edit
moving that resource elsewhere) is therefore not final: it is left to
execution, which runs frees before takes. Snapshot runs have no dry run.

# Limitation: such a deferred write is not fully dry-run; if it fails for
# another reason too, earlier steps of its scope have already run (a rerun
# still converges).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from reconciler.apply import landed
from reconciler.apply.result import Failure, PreflightFailure
from reconciler.errors import ApiError, MaybeLandedError
from reconciler.http.retry import RetryPolicy
from reconciler.identity import new_salt
from reconciler.kinds import ResourceKind
from reconciler.model import LiveRun, Scope, SnapshotSpec
from reconciler.plan import Action, Change, Plan
from reconciler.providers.base import Providers, Written

__all__ = ["WRITES", "new_salts", "preflight", "writes_of"]

# Actions that send a body: replace and add create a new resource, edit and
# adopt send the whole spec over an existing one.
WRITES = (Action.ADD, Action.REPLACE, Action.EDIT, Action.ADOPT)
_DRY_RUN_SENDS = 4  # tries of one dry run whose answer was lost
_DRY_RUN_BACKOFF = RetryPolicy()  # the client's own schedule: exponential, full jitter


def writes_of(plan: Plan) -> list[tuple[Scope, Change]]:
    """The changes of ``plan`` that send a body, so preflight sends each as a dry run."""
    return [(scope, change) for scope, change in plan.changes() if change.action in WRITES]


def new_salts(plan: Plan) -> dict[tuple[Scope, str], str]:
    """A fresh marker salt for every write: the dry run and the real write share it."""
    return {(scope, change.key): new_salt() for scope, change in writes_of(plan)}


async def preflight(
    providers: Providers, plan: Plan, salts: Mapping[tuple[Scope, str], str]
) -> tuple[PreflightFailure, ...]:
    """Every write of ``plan`` the server would refuse, in plan order (empty: all pass)."""
    writes = [
        (sp.scope, sp.kind, c) for sp in plan.scopes for c in sp.changes if c.action in WRITES
    ]
    outcomes = await asyncio.gather(*(_validate(providers, s, k, c, salts) for s, k, c in writes))
    freed = _freed_addresses(plan)
    return tuple(
        failure
        for (_, kind, change), failure in zip(writes, outcomes, strict=True)
        if failure is not None and _desired_address(kind, change) not in freed
    )


def _desired_address(kind: ResourceKind | None, change: Change) -> tuple[Any, ...] | None:
    spec = change.desired
    if kind is None or spec is None or isinstance(spec, SnapshotSpec):
        return None
    return kind.address(spec)


def _freed_addresses(plan: Plan) -> set[tuple[Any, ...]]:
    """Destinations that live resources hold now and this plan releases before writing."""
    freed: set[tuple[Any, ...]] = set()
    for scope_plan in plan.scopes:
        kind = scope_plan.kind
        if kind is None:
            continue
        for change in scope_plan.changes:
            live = change.live
            if live is None or not change.action.is_change or isinstance(live, LiveRun):
                continue
            held = kind.address(live)
            if held is not None and held != _desired_address(kind, change):
                freed.add(held)
    return freed


async def _validate(
    providers: Providers,
    scope: Scope,
    kind: ResourceKind | None,
    change: Change,
    salts: Mapping[tuple[Scope, str], str],
) -> PreflightFailure | None:
    for attempt in range(1, _DRY_RUN_SENDS + 1):
        try:
            await _dry_run(providers, scope, change, salts[(scope, change.key)])
        except MaybeLandedError as error:
            # A dry run changes nothing, so an answer lost to a 5xx or a dropped
            # connection can simply be asked again, after a pause.
            if attempt == _DRY_RUN_SENDS:
                return _unanswered(scope, change, error)
            await asyncio.sleep(_DRY_RUN_BACKOFF.delay(attempt))
        except ApiError as error:
            refused = Failure.of(error) is Failure.REFUSED
            if refused and await _written_since(providers, scope, kind, change):
                return None
            return _failure(scope, change, error)
        else:
            return None
    return None


async def _written_since(
    providers: Providers, scope: Scope, kind: ResourceKind | None, change: Change
) -> bool:
    """Whether a refused add is there already: another apply of it ran since the plan.

    Two applies of one manifest at once plan the same add; once one has made
    it, the other's dry run is refused on the destination it now holds.
    That is no refusal of the manifest: execution finds it written
    (``execute``'s refused-copy rule) and the check afterwards keeps one.
    """
    spec = change.desired
    if change.action is not Action.ADD or kind is None or spec is None:
        return False
    if isinstance(spec, SnapshotSpec):
        return False
    try:
        found = await landed.resource_with_spec(providers, scope, kind, spec)
    except ApiError:
        return False  # no listing, no evidence: the refusal stands
    return found is not None


def _unanswered(scope: Scope, change: Change, error: MaybeLandedError) -> PreflightFailure:
    """A dry run the API never answered: not a refusal, and nothing can have landed."""
    last = f"HTTP {error.status_code}" if error.status_code else "connection lost"
    detail = (
        f"the API gave no answer to the dry run in {_DRY_RUN_SENDS} tries (last: {last}); "
        "a dry run changes nothing, so try again later"
    )
    return _preflight_failure(scope, change, error, detail)


def _failure(scope: Scope, change: Change, error: ApiError) -> PreflightFailure:
    return _preflight_failure(scope, change, error, error.detail or error.message)


def _preflight_failure(
    scope: Scope, change: Change, error: ApiError, detail: str
) -> PreflightFailure:
    failure = Failure.of(error)
    return PreflightFailure(scope, change.key, change.action, error.status_code, detail, failure)


async def _dry_run(providers: Providers, scope: Scope, change: Change, salt: str) -> Written:
    spec = change.desired
    if spec is None or isinstance(spec, SnapshotSpec):
        raise ValueError(f"plan change {change.key!r} has no desired spec")
    provider = providers.resources(scope)
    if change.action in (Action.ADD, Action.REPLACE):
        return await provider.create(scope, spec, salt=salt, dry_run=True)
    live = change.live
    if live is None or isinstance(live, LiveRun):
        raise ValueError(f"plan change {change.key!r} has no live resource")
    return await provider.update(scope, spec, live, salt=salt, dry_run=True)
