"""Wall time of a full plan against a slow API, next to the best it could be.

Run by hand: ``.venv/bin/python bench/bench_plan.py [--dataviews N] [--exports M]
[--latency-ms L]``. Starts the sandbox on a real loopback socket with a fixed
latency per request, seeds N dataviews x M exports that exportctl applied
(store-level bulk insert, no HTTP), then plans them all: list every dataview
through the client, then ``make_plan``.

Listing is latency-bound, so the floor is ``requests x latency / parallelism``;
the plan should stay within 1.5x of it. A one-request-at-a-time client
(parallelism 1) is timed for comparison. Also prints the CPU time of
``make_plan`` alone (target < 1 s for 10,000 exports) and the machine.

# Limitation: server and client share one process (and its GIL), as in the
# tests. Measured on 2 CPUs, the floor is not reachable either way: the
# sandbox serves one 20-export page in ~8 ms of CPU on one event loop, so it
# answers ~120 lists/s at most, below the 400/s that 8 x 20 ms would allow
# (a server in its own process gave 3.8x the floor instead of ~4x).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from reconciler.identity import marker_for
from reconciler.live import fetch_live
from reconciler.mammoth.client import MammothClient
from reconciler.model import DataviewRef, DataviewSpec, DesiredState, ExportSpec, freeze
from reconciler.plan import Action, Plan
from reconciler.planner import make_plan
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.seed import add_exports
from reconciler.sandbox.server import RunningSandbox, serve_in_thread
from reconciler.sandbox.store import Store

SALT = "0123456789abcdef"
TARGET_RATIO = 1.5


class CountingTransport(httpx.AsyncBaseTransport):
    """The real socket transport, counting requests; keeps the client's connection limit."""

    def __init__(self, parallelism: int) -> None:
        limits = httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism)
        self._inner = httpx.AsyncHTTPTransport(limits=limits)
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class Timing:
    wall_s: float
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
    """One dataview per project.

    # Limitation: the sandbox's S3 "file already written" rule scans the whole
    # project with json_extract on every add, so 10,000 exports in one project
    # seed in ~90 s (quadratic); one project per dataview seeds in seconds.
    """
    specs = tuple(
        DataviewSpec(
            DataviewRef(1, 1 + v, 1, 1000 + v), tuple(export_spec(v, n) for n in range(exports))
        )
        for v in range(dataviews)
    )
    return DesiredState(specs, digest="bench")


def seed(store: Store, desired: DesiredState) -> None:
    """What an earlier apply would have left: every export, with its marker."""
    for dataview in desired.dataviews:
        add_exports(store, dataview.ref, (_applied_body(spec) for spec in dataview.exports))


def _applied_body(spec: ExportSpec) -> dict[str, object]:
    return {
        "handler_type": spec.handler_type,
        "trigger_type": spec.trigger_type,
        "target_properties": dict(spec.target_properties),
        "additional_properties": {"exportctl": marker_for(spec, SALT)},
    }


async def _plan(base_url: str, desired: DesiredState, parallelism: int) -> Timing:
    transport = CountingTransport(parallelism)
    client = MammothClient(
        base_url, "sandbox", "sandbox", transport=transport, parallelism=parallelism
    )
    start = time.perf_counter()
    async with client:
        live = await fetch_live(client, [dv.ref for dv in desired.dataviews])
    cpu_start = time.process_time()
    plan = make_plan(desired, live)
    cpu = time.process_time() - cpu_start
    return Timing(time.perf_counter() - start, transport.requests, plan, cpu)


def timed_plan(base_url: str, desired: DesiredState, parallelism: int) -> Timing:
    return asyncio.run(_plan(base_url, desired, parallelism))


def report(label: str, timing: Timing, latency_ms: float, parallelism: int) -> None:
    bound = timing.requests * latency_ms / 1000 / parallelism
    ratio = timing.wall_s / bound if bound else float("nan")
    verdict = "ok" if ratio <= TARGET_RATIO else f"over the {TARGET_RATIO}x target"
    print(
        f"{label}: wall {timing.wall_s:.2f} s, {timing.requests} requests, "
        f"lower bound {bound:.2f} s ({timing.requests} x {latency_ms:g} ms / {parallelism}), "
        f"ratio {ratio:.2f}x ({verdict})"
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
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"{options.dataviews} dataviews x {options.exports} exports = {total} exports, "
        f"sandbox latency {options.latency_ms:g} ms per request"
    )
    desired = build_desired(options.dataviews, options.exports)
    config = SandboxConfig(latency_ms=options.latency_ms)
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve_in_thread(Path(tmp) / "bench.db", config) as sandbox,
    ):
        start = time.perf_counter()
        seed(sandbox.store, desired)
        print(f"seeded in {time.perf_counter() - start:.1f} s (store-level bulk insert)")
        run(sandbox, desired, options)


def run(sandbox: RunningSandbox, desired: DesiredState, options: Options) -> None:
    timed_plan(sandbox.base_url, desired, 8)  # warm caches and the server, not measured
    parallel = timed_plan(sandbox.base_url, desired, 8)
    print(f"plan: {counts(parallel.plan)}")
    report("parallelism 8", parallel, options.latency_ms, 8)
    report("parallelism 1", timed_plan(sandbox.base_url, desired, 1), options.latency_ms, 1)
    total = options.dataviews * options.exports
    print(f"make_plan CPU time for {total} exports: {parallel.plan_cpu_s:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
