"""End-to-end speed of plan and apply against the sandbox on a real socket.

Run by hand, for example::

    .venv/bin/python bench/bench_e2e.py --sizes 1,100,1000 --exports 10 --latencies 0,20

For each injected server latency and each number of dataviews (each with
``--exports`` S3 exports), on a fresh sandbox served by ``exportctl sandbox
serve`` in a process of its own on loopback:

- ``apply pN``: apply a manifest of that size to empty dataviews (preflight
  dry runs, then one add per export), ``N`` requests in flight at once;
- ``plan pN``: plan the same manifest right after (every export is up to
  date: the steady state a CI job sees), listing every dataview.

``p1`` rows are the one-request-at-a-time baseline through the same client
and engine. A row whose estimated time (requests x latency / parallelism)
exceeds ``--budget-s`` is skipped and says so, so a full run stays short.
Prints a table (wall seconds, HTTP requests sent, requests per second) and
the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import time
from dataclasses import dataclass

from _support import CountingTransport, Sandbox, machine, sandbox_process, seed_applied

from reconciler.apply.engine import ApplyOptions, apply_plan
from reconciler.apply.execute import ExecuteOptions
from reconciler.live import fetch_live
from reconciler.model import DesiredState, freeze
from reconciler.planner import make_plan
from reconciler.progress import make_progress
from reconciler.providers.base import Providers
from reconciler.providers.mammoth.client import MammothClient
from reconciler.providers.mammoth.kind import dataview_spec
from reconciler.providers.mammoth.model import DataviewRef, ExportSpec
from reconciler.providers.mammoth.provider import MammothProvider


@dataclass(frozen=True)
class Row:
    scenario: str
    wall_s: float | None
    requests: int
    note: str = ""


def desired_state(dataviews: int, exports: int) -> DesiredState:
    specs = tuple(
        dataview_spec(
            DataviewRef(1, 1, 100, 1000 + d),
            tuple(
                ExportSpec(
                    key=f"export-{e}",
                    handler_type="s3",
                    trigger_type="pipeline",
                    target_properties=freeze({"file": f"dv{d}_export{e}.csv"}),
                    run_immediately=False,
                )
                for e in range(exports)
            ),
        )
        for d in range(dataviews)
    )
    return DesiredState(specs, digest="bench")


async def _apply(base_url: str, state: DesiredState, parallelism: int) -> tuple[float, int]:
    transport = CountingTransport(base_url, parallelism)
    client = MammothProvider(
        MammothClient(base_url, "sandbox", "sandbox", transport=transport, parallelism=parallelism)
    )
    options = ApplyOptions(execute=ExecuteOptions(parallelism=parallelism))
    start = time.perf_counter()
    async with client:
        providers = Providers({"mammoth": client})
        live = await fetch_live(providers, [spec.scope for spec in state.scopes])
        plan = make_plan(state, live)
        result = await apply_plan(
            providers, plan, options=options, progress=make_progress(io.StringIO())
        )
    wall = time.perf_counter() - start
    if not result.ok:
        raise SystemExit("apply failed: the benchmark measures only successful runs")
    return wall, transport.requests


async def _plan(base_url: str, state: DesiredState, parallelism: int) -> tuple[float, int]:
    transport = CountingTransport(base_url, parallelism)
    client = MammothProvider(
        MammothClient(base_url, "sandbox", "sandbox", transport=transport, parallelism=parallelism)
    )
    start = time.perf_counter()
    async with client:
        providers = Providers({"mammoth": client})
        live = await fetch_live(providers, [spec.scope for spec in state.scopes])
        plan = make_plan(state, live)
    wall = time.perf_counter() - start
    if plan.has_changes:
        raise SystemExit("plan after apply still has changes: the benchmark is broken")
    return wall, transport.requests


# Measured: client and sandbox together manage ~200-400 requests/s on 2 CPUs
# whatever the parallelism; the estimate uses the slower figure as a floor.
_FLOOR_S = 0.005


def estimate_s(requests: int, latency_ms: float, parallelism: int) -> float:
    return requests * (latency_ms / 1000 / parallelism + _FLOOR_S)


def run_size(
    size: int, exports: int, latency: float, parallelisms: list[int], budget: float
) -> list[Row]:
    state = desired_state(size, exports)
    apply_requests = size + 2 * size * exports  # lists, then a dry run and an add per export
    label = f"{size} dv x {exports}, {latency:g} ms"
    rows: list[Row] = []
    applied: Sandbox | None = None
    refs = [DataviewRef.of(spec.scope) for spec in state.scopes]
    with sandbox_process(refs, latency) as first, sandbox_process(refs, latency) as second:
        servers = iter((first, second))
        for parallelism in parallelisms:
            name = f"apply p{parallelism:<2} {label}"
            estimate = estimate_s(apply_requests, latency, parallelism)
            if estimate > budget:
                rows.append(Row(name, None, apply_requests, f"skipped: ~{estimate:.0f} s"))
                continue
            server = next(servers)
            wall, count = asyncio.run(_apply(server.base_url, state, parallelism))
            rows.append(Row(name, wall, count))
            applied = applied or server
        if applied is None:  # no apply fitted the budget: plan over a seeded state
            applied = next(servers)
            seed_applied(applied.db, state)
        for parallelism in parallelisms:
            wall, count = asyncio.run(_plan(applied.base_url, state, parallelism))
            rows.append(Row(f"plan  p{parallelism:<2} {label}", wall, count))
    return rows


def table(rows: list[Row]) -> str:
    width = max(len(r.scenario) for r in rows)
    lines = [
        f"| {'scenario':<{width}} | wall s | requests |   req/s | note |",
        f"|{'-' * (width + 2)}|-------:|---------:|--------:|------|",
    ]
    for row in rows:
        wall = "" if row.wall_s is None else f"{row.wall_s:6.2f}"
        rate = "" if not row.wall_s else f"{row.requests / row.wall_s:7.0f}"
        lines.append(
            f"| {row.scenario:<{width}} | {wall:>6} | {row.requests:>8} | {rate:>7} | {row.note} |"
        )
    return "\n".join(lines)


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=ints, default=[1, 100, 1000], help="dataview counts")
    parser.add_argument("--exports", type=int, default=10, help="exports per dataview")
    parser.add_argument("--latencies", type=ints, default=[0, 20], help="server latency, ms")
    parser.add_argument("--parallelism", type=int, default=8, help="compared with 1")
    parser.add_argument("--budget-s", type=float, default=60.0, help="skip rows estimated slower")
    args = parser.parse_args(argv)
    parallelisms = sorted({args.parallelism, 1}, reverse=True)
    rows: list[Row] = []
    started = time.perf_counter()
    for latency in args.latencies:
        for size in args.sizes:
            rows += run_size(size, args.exports, latency, parallelisms, args.budget_s)
            print(f"... {latency} ms, {size} dataviews done", file=sys.stderr, flush=True)
    print(table(rows))
    print(f"\nMachine: {machine()}")
    print(f"Total run time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
