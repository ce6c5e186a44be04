"""Shared pieces of the apply tests: desired states in code, a client, plan and apply."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reconciler.apply.engine import ApplyOptions, apply_plan
from reconciler.apply.execute import ExecuteOptions
from reconciler.apply.result import ApplyResult
from reconciler.http.retry import RetryPolicy
from reconciler.live import fetch_live
from reconciler.model import DesiredState, Prune, freeze
from reconciler.plan import Plan
from reconciler.planner import make_plan
from reconciler.progress import LineProgress
from reconciler.providers.base import Providers
from reconciler.providers.mammoth.client import MammothClient
from reconciler.providers.mammoth.kind import dataview_spec
from reconciler.providers.mammoth.model import DataviewRef, ExportSpec, LiveExport
from reconciler.providers.mammoth.provider import MammothProvider

REF = DataviewRef(1, 1, 123, 456)
REF2 = DataviewRef(1, 1, 123, 457)
FAST = ExecuteOptions(poll_interval=0.02, job_timeout=10, landed_grace=0.1)


def spec(key: str, handler_type: str, target: Mapping[str, Any], **extra: Any) -> ExportSpec:
    return ExportSpec(
        key=key,
        handler_type=handler_type,
        trigger_type="none",
        target_properties=freeze(dict(target)),
        run_immediately=False,
        **extra,
    )


def s3(key: str, file: str, **extra: Any) -> ExportSpec:
    return spec(key, "s3", {"file": file}, **extra)


def desired(
    *dataviews: tuple[DataviewRef, Iterable[ExportSpec]], prune: Prune = Prune.MANAGED
) -> DesiredState:
    specs = tuple(dataview_spec(ref, exports, prune) for ref, exports in dataviews)
    return DesiredState(specs, digest="test")


def client(base_url: str) -> MammothClient:
    retry = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05)
    return MammothClient(base_url, "sandbox", "sandbox", retry=retry, parallelism=4)


def provider(base_url: str) -> MammothProvider:
    """The Mammoth provider over ``client``: what apply and plan talk to."""
    return MammothProvider(client(base_url))


def providers(opened: MammothProvider) -> Providers:
    """The one open provider as the core's ``Providers``."""
    return Providers({"mammoth": opened})


def refs(state: DesiredState) -> list[DataviewRef]:
    """The dataviews of a desired state made by ``desired``."""
    return [DataviewRef.of(spec.scope) for spec in state.scopes]


async def _plan(base_url: str, state: DesiredState) -> Plan:
    async with provider(base_url) as api:
        live = await fetch_live(providers(api), [spec.scope for spec in state.scopes])
    return make_plan(state, live)


def plan_now(base_url: str, state: DesiredState) -> Plan:
    return asyncio.run(_plan(base_url, state))


def apply_now(
    base_url: str,
    state: DesiredState,
    *,
    execute: ExecuteOptions = FAST,
    max_deletes: int | None = None,
    log: io.StringIO | None = None,
) -> ApplyResult:
    async def run() -> ApplyResult:
        plan = await _plan(base_url, state)
        async with provider(base_url) as api:
            return await apply_plan(
                providers(api),
                plan,
                options=ApplyOptions(max_deletes=max_deletes, execute=execute),
                progress=LineProgress(log if log is not None else io.StringIO()),
            )

    return asyncio.run(run())


def seed(base_url: str, ref: DataviewRef, bodies: Iterable[Mapping[str, Any]]) -> list[int]:
    """Create exports through the API, as a person or an older exportctl would have."""

    async def run() -> list[int]:
        async with client(base_url) as api:
            return [
                (await api.add_export(ref, {"run_immediately": False, **body})).trigger_id or 0
                for body in bodies
            ]

    return asyncio.run(run())


def live_exports(base_url: str, ref: DataviewRef) -> list[LiveExport]:
    async def run() -> list[dict[str, Any]]:
        async with client(base_url) as api:
            return await api.list_exports(ref)

    return [LiveExport.from_api(r) for r in asyncio.run(run()) if r.get("status") != "deleted"]


def dump(db: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every row of every table, to compare a database before and after."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            (t, sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr))
            for t in sorted(tables)
        ]
