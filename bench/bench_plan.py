"""Wall time of a full plan against a slow API, next to the best it could be.

Run by hand: ``.venv/bin/python bench/bench_plan.py [--dataviews N] [--exports M]
[--latency-ms L]``. Seeds N dataviews x M exports that exportctl applied into a
sandbox database (store-level bulk insert, no HTTP), serves it with
``exportctl sandbox serve`` in a process of its own on a loopback socket with a
fixed latency per request, then plans them all: list every dataview through
the client, then ``make_plan``.

Listing is latency-bound, so the floor is ``requests x latency / parallelism``;
the plan should stay within 1.5x of it. A one-request-at-a-time client
(parallelism 1) is timed for comparison. Also prints the CPU time of
``make_plan`` alone (target < 1 s for 10,000 exports) and the machine.

The server runs in its own process because a real API's CPU is not ours: in
one process, client and server would share one interpreter lock and the
sandbox's own work would be counted as the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from reconciler.identity import marker_for
from reconciler.live import fetch_live
from reconciler.mammoth.client import MammothClient
from reconciler.model import DataviewRef, DataviewSpec, DesiredState, ExportSpec, freeze
from reconciler.plan import Action, Plan
from reconciler.planner import make_plan
from reconciler.sandbox.seed import add_exports
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
    listed = time.perf_counter() - start
    cpu_start = time.process_time()
    plan = make_plan(desired, live)
    cpu = time.process_time() - cpu_start
    return Timing(time.perf_counter() - start, listed, transport.requests, plan, cpu)


def timed_plan(base_url: str, desired: DesiredState, parallelism: int) -> Timing:
    return asyncio.run(_plan(base_url, desired, parallelism))


def report(label: str, timing: Timing, latency_ms: float, parallelism: int) -> None:
    bound = timing.requests * latency_ms / 1000 / parallelism
    ratio = timing.wall_s / bound if bound else float("nan")
    verdict = "ok" if ratio <= TARGET_RATIO else f"over the {TARGET_RATIO}x target"
    print(
        f"{label}: wall {timing.wall_s:.2f} s (listing {timing.list_wall_s:.2f} s), "
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
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"{options.dataviews} dataviews x {options.exports} exports = {total} exports, "
        f"sandbox latency {options.latency_ms:g} ms per request"
    )
    desired = build_desired(options.dataviews, options.exports)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        start = time.perf_counter()
        store = Store(db)
        store.ensure_dataviews(dv.ref for dv in desired.dataviews)
        seed(store, desired)
        store.close()
        print(f"seeded in {time.perf_counter() - start:.1f} s (store-level bulk insert)")
        with sandbox_process(db, options.latency_ms) as base_url:
            run(base_url, desired, options)


@contextmanager
def sandbox_process(db: Path, latency_ms: float) -> Iterator[str]:
    """``exportctl sandbox serve`` on a free loopback port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", str(port)]
    command += ["--db", str(db), "--latency-ms", str(latency_ms)]
    env = {**os.environ, "MAMMOTH_API_KEY": "sandbox", "MAMMOTH_API_SECRET": "sandbox"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        root = f"http://127.0.0.1:{port}"
        _wait_until_up(root)
        yield f"{root}/api/v2"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_up(root: str) -> None:
    headers = {"X-API-KEY": "sandbox", "X-API-SECRET": "sandbox"}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{root}/_sandbox/health", headers=headers).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"the sandbox at {root} did not start within 15 s")


def run(base_url: str, desired: DesiredState, options: Options) -> None:
    timed_plan(base_url, desired, 8)  # warm caches and the server, not measured
    parallel = timed_plan(base_url, desired, 8)
    print(f"plan: {counts(parallel.plan)}")
    report("parallelism 8", parallel, options.latency_ms, 8)
    report("parallelism 1", timed_plan(base_url, desired, 1), options.latency_ms, 1)
    total = options.dataviews * options.exports
    print(f"make_plan CPU time for {total} exports: {parallel.plan_cpu_s:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
