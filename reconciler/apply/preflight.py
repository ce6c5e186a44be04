"""Preflight: send every add and edit with ``validate_only: true`` before any change.

The server knows rules no manifest check can (an unknown connection id, an S3
file already written by another export), so each write is tried as a dry run
first. All of them are tried, every refusal is collected with its server
detail, and when there is any, apply stops before mutating anything.

# Limitation: each body is validated against the dataview as it is now, before
# this apply's deletes: an add that reuses a destination only a planned delete
# frees is refused here. The planner avoids the common case (a renamed key
# writing the same file is adopted, not deleted and re-added).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from reconciler.apply.result import PreflightFailure
from reconciler.errors import ApiError
from reconciler.mammoth.client import MammothClient, MutationResult
from reconciler.model import DataviewRef
from reconciler.plan import Action, Change, Plan
from reconciler.wire import add_body, edit_body

__all__ = ["WRITES", "preflight"]

# Actions that send a body: replace and add POST a new export, edit and adopt
# POST the whole spec over an existing one.
WRITES = (Action.ADD, Action.REPLACE, Action.EDIT, Action.ADOPT)


async def preflight(
    client: MammothClient, plan: Plan, salts: Mapping[tuple[DataviewRef, str], str]
) -> tuple[PreflightFailure, ...]:
    """Every write of ``plan`` the server would refuse, in plan order (empty: all pass)."""
    writes = [(ref, c) for ref, c in plan.changes() if c.action in WRITES]
    outcomes = await asyncio.gather(*(_validate(client, ref, c, salts) for ref, c in writes))
    return tuple(failure for failure in outcomes if failure is not None)


async def _validate(
    client: MammothClient,
    ref: DataviewRef,
    change: Change,
    salts: Mapping[tuple[DataviewRef, str], str],
) -> PreflightFailure | None:
    try:
        await _dry_run(client, ref, change, salts[(ref, change.key)])
    except ApiError as error:
        detail = error.detail or error.message
        return PreflightFailure(ref, change.key, change.action, error.status_code, detail)
    return None


async def _dry_run(
    client: MammothClient, ref: DataviewRef, change: Change, salt: str
) -> MutationResult:
    spec = change.desired
    if spec is None:
        raise ValueError(f"plan change {change.key!r} has no desired spec")
    if change.action in (Action.ADD, Action.REPLACE):
        body = add_body(spec, ref, salt=salt, validate_only=True)
        return await client.add_export(ref, body, key=spec.key)
    live = change.live
    if live is None:
        raise ValueError(f"plan change {change.key!r} has no live export")
    body = edit_body(spec, ref, live.id, salt=salt, validate_only=True, live=live)
    return await client.edit_export(ref, live.id, body, key=spec.key)
