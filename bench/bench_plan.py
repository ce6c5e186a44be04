"""Wall time of a full plan against a slow API, next to the best it could be.

Run by hand: ``.venv/bin/python bench/bench_plan.py [--dataviews N] [--exports M]
[--latency-ms L]``. Seeds N dataviews x M exports that exportctl applied into a
sandbox database (store-level bulk insert, no HTTP), serves it with
``exportctl sandbox serve`` in a process of its own on a loopback socket with a
fixed latency per request, then plans them all as ``exportctl plan`` does
(``plan_live``: each dataview is planned as soon as its listing arrives).

Listing is latency-bound, so the floor is ``requests x latency / parallelism``;
the plan should stay within 1.5x of it (best of three runs). A
one-request-at-a-time client (parallelism 1) is timed for comparison. Also
prints the CPU time of ``make_plan`` alone (target < 1 s for 10,000 exports)
and the machine.

The server runs in its own process because a real API's CPU is not ours: in
one process, client and server would share one interpreter lock and the
sandbox's own work would be counted as the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass

from _support import CountingTransport, machine, sandbox_process, seed_applied

from reconciler.cli.session import plan_live
from reconciler.live import fetch_live
from reconciler.model import DesiredState, freeze
from reconciler.plan import Action, Plan
from reconciler.planner import make_plan
from reconciler.providers.base import Providers
from reconciler.providers.mammoth.client import MammothClient
from reconciler.providers.mammoth.kind import dataview_spec
from reconciler.providers.mammoth.model import DataviewRef, ExportSpec
from reconciler.providers.mammoth.provider import MammothProvider

TARGET_RATIO = 1.5
RUNS = 3


@dataclass(frozen=True)
class Timing:
    wall_s: float
    list_wall_s: float
    requests: int
    plan: Plan
    plan_cpu_s: float


def export_spec(dataview: int, n: int) -> ExportSpec:
    return ExportSpec(
        key=f"export-{n}",
        handler_type="s3",
        trigger_type="none",
        target_properties=freeze({"file": f"dv{dataview}_file{n}.csv"}),
        run_immediately=False,
    )


def build_desired(dataviews: int, exports: int) -> DesiredState:
    """One dataview per project, as a team's exports are usually spread."""
    specs = tuple(
        dataview_spec(
            DataviewRef(1, 1 + v, 1, 1000 + v), tuple(export_spec(v, n) for n in range(exports))
        )
        for v in range(dataviews)
    )
    return DesiredState(specs, digest="bench")


async def _plan(base_url: str, desired: DesiredState, parallelism: int) -> Timing:
    transport = CountingTransport(base_url, parallelism)
    client = MammothProvider(
        MammothClient(base_url, "sandbox", "sandbox", transport=transport, parallelism=parallelism)
    )
    async with client:
        start = time.perf_counter()
        providers = Providers({"mammoth": client})
        plan = await plan_live(providers, desired, (), ())  # what `exportctl plan` runs
        wall = time.perf_counter() - start
        requests = transport.requests
        start = time.perf_counter()
        live = await fetch_live(providers, [spec.scope for spec in desired.scopes])
        listed = time.perf_counter() - start
    cpu_start = time.process_time()
    make_plan(desired, live)
    cpu = time.process_time() - cpu_start
    return Timing(wall, listed, requests, plan, cpu)


def timed_plan(base_url: str, desired: DesiredState, parallelism: int) -> Timing:
    return asyncio.run(_plan(base_url, desired, parallelism))


def report(label: str, timing: Timing, latency_ms: float, parallelism: int) -> None:
    bound = timing.requests * latency_ms / 1000 / parallelism
    ratio = timing.wall_s / bound if bound else float("nan")
    verdict = "ok" if ratio <= TARGET_RATIO else f"over the {TARGET_RATIO}x target"
    print(
        f"{label}: wall {timing.wall_s:.2f} s (listing alone {timing.list_wall_s:.2f} s), "
        f"{timing.requests} requests, lower bound {bound:.2f} s "
        f"({timing.requests} x {latency_ms:g} ms / {parallelism}), ratio {ratio:.2f}x ({verdict})"
    )


def counts(plan: Plan) -> str:
    found = plan.counts()
    return ", ".join(f"{a.value}={found[a]}" for a in Action if found.get(a))


@dataclass(frozen=True)
class Options:
    dataviews: int
    exports: int
    latency_ms: float


def parse() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dataviews", type=int, default=500)
    parser.add_argument("--exports", type=int, default=20, help="exports per dataview")
    parser.add_argument("--latency-ms", type=float, default=20)
    args = parser.parse_args()
    return Options(args.dataviews, args.exports, args.latency_ms)


def main() -> None:
    options = parse()
    total = options.dataviews * options.exports
    print(f"machine: {machine()}")
    print(
        f"{options.dataviews} dataviews x {options.exports} exports = {total} exports, "
        f"sandbox latency {options.latency_ms:g} ms per request"
    )
    desired = build_desired(options.dataviews, options.exports)
    refs = [DataviewRef.of(spec.scope) for spec in desired.scopes]
    with sandbox_process(refs, options.latency_ms) as sandbox:
        start = time.perf_counter()
        seed_applied(sandbox.db, desired)
        print(f"seeded in {time.perf_counter() - start:.1f} s (store-level bulk insert)")
        run(sandbox.base_url, desired, options)


def run(base_url: str, desired: DesiredState, options: Options) -> None:
    timed_plan(base_url, desired, 8)  # warm caches and the server, not measured
    # Best of three, the figure least disturbed by whatever else the machine
    # does (as in _support.best_of); the worst is printed next to it.
    runs = sorted((timed_plan(base_url, desired, 8) for _ in range(RUNS)), key=lambda t: t.wall_s)
    parallel = runs[0]
    print(f"plan: {counts(parallel.plan)}")
    report(f"parallelism 8, best of {RUNS}", parallel, options.latency_ms, 8)
    print(f"  (worst of {RUNS}: {runs[-1].wall_s:.2f} s; load average {os.getloadavg()[0]:.2f})")
    report("parallelism 1", timed_plan(base_url, desired, 1), options.latency_ms, 1)
    total = options.dataviews * options.exports
    print(f"make_plan CPU time for {total} exports: {parallel.plan_cpu_s:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
