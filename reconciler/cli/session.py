"""The flow every planning command shares: manifest in, client open, plan out.

``plan``, ``drift`` and ``apply`` all load the manifest, narrow it with
``--target``/``--exclude``, list the live exports of the dataviews left, and
plan. Keeping that flow here means the three commands can never disagree on
what "the plan" is; each command only renders it and picks its exit code.
``plan`` and ``drift`` only read, so they run the whole flow in one call,
``load_and_plan``; ``apply`` runs its steps around the client it then applies
with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.live import fetch_live
from reconciler.manifest import load_manifest
from reconciler.model import DataviewRef, DesiredState, LiveDataview
from reconciler.plan import DataviewPlan, Plan
from reconciler.planner import plan_dataview
from reconciler.providers import factory
from reconciler.providers.base import Connection, Provider
from reconciler.selectors import select_dataviews, select_plan

__all__ = ["Planned", "load_and_plan", "load_desired", "open_for", "plan_live"]


def load_desired(
    files: Sequence[str], targets: Sequence[str], excludes: Sequence[str]
) -> DesiredState:
    """The manifest narrowed to the dataviews the selectors can involve.

    Selectors are parsed here, before any request, so a typo fails fast.
    """
    return select_dataviews(load_manifest(list(files)), targets, excludes)


def open_for(
    desired: DesiredState, endpoint: str | None, sandbox_db: str | None, parallelism: int
) -> Provider:
    """The provider of ``desired``, for the API the options name (or the sandbox)."""
    connection = Connection(endpoint=endpoint, sandbox_db=sandbox_db, parallelism=parallelism)
    return factory(desired.provider).open(connection, desired)


async def plan_live(
    provider: Provider,
    desired: DesiredState,
    targets: Sequence[str],
    excludes: Sequence[str],
) -> Plan:
    """List the live exports of ``desired``'s dataviews and plan, narrowed by the selectors.

    The same plan as ``make_plan(desired, fetch_live(...))``, but each dataview
    is planned as soon as its listing arrives: planning is pure CPU, and this
    way it overlaps with the requests still waiting on the network.
    ``provider`` must already be open (inside ``async with``); it stays open.
    """
    specs = {dataview.ref: dataview for dataview in desired.dataviews}
    planned: dict[DataviewRef, DataviewPlan] = {}

    def plan_as_listed(live: LiveDataview) -> None:
        planned[live.ref] = plan_dataview(specs[live.ref], live)

    await fetch_live(provider, list(specs), on_listed=plan_as_listed)
    plan = Plan(tuple(planned[ref] for ref in specs), manifest_digest=desired.digest)
    return select_plan(plan, targets, excludes)


@dataclass(frozen=True)
class Planned:
    """What ``load_and_plan`` made: the narrowed manifest and its plan."""

    desired: DesiredState
    plan: Plan


def load_and_plan(
    files: Sequence[str],
    *,
    targets: Sequence[str],
    excludes: Sequence[str],
    endpoint: str | None,
    sandbox_db: str | None,
    parallelism: int,
) -> Planned:
    """``load_desired`` then ``plan_live``, for commands that only read.

    It opens the provider and closes it again; ``desired`` comes back too, for
    ``plan --out`` to hash the secrets the plan relies on.
    """
    desired = load_desired(files, targets, excludes)

    async def run() -> Plan:
        async with open_for(desired, endpoint, sandbox_db, parallelism) as provider:
            return await plan_live(provider, desired, targets, excludes)

    return Planned(desired, asyncio.run(run()))
