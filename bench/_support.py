"""What the end-to-end benchmarks share: a sandbox process, request counting, seeding.

The sandbox runs in a process of its own, as ``exportctl sandbox serve``: a
real API's CPU is not ours, and in one process the server's work would share
the client's interpreter lock and be counted as the client's.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from reconciler.http.transport import network_transport
from reconciler.identity import new_salt
from reconciler.model import DesiredState
from reconciler.providers.mammoth.kind import export_marker
from reconciler.providers.mammoth.model import DataviewRef, ExportSpec
from reconciler.providers.mammoth.sandbox.seed import add_exports
from reconciler.providers.mammoth.sandbox.store import Store

__all__ = [
    "CountingTransport",
    "Sandbox",
    "best_of",
    "machine",
    "sandbox_process",
    "seed_applied",
]

_HEADERS = {"X-API-KEY": "sandbox", "X-API-SECRET": "sandbox"}


class CountingTransport(httpx.AsyncBaseTransport):
    """The transport exportctl uses for ``base_url``, counting the requests sent.

    Retries are counted too. Wrapping ``network_transport`` (not a stock httpx
    transport) keeps the benchmark measuring what ``exportctl plan`` runs.
    """

    def __init__(self, base_url: str, parallelism: int) -> None:
        self._inner = network_transport(base_url, parallelism)
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class Sandbox:
    base_url: str
    db: Path
    pid: int

    def cpu_seconds(self) -> float | None:
        """The CPU time the server has used so far (Linux), to tell what one run cost it."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        user, system = int(fields[11]), int(fields[12])  # utime and stime, in clock ticks
        return (user + system) / os.sysconf("SC_CLK_TCK")


@contextmanager
def sandbox_process(
    dataviews: Iterator[DataviewRef] | list[DataviewRef], latency_ms: float
) -> Iterator[Sandbox]:
    """A fresh sandbox database with these dataviews, served on a free loopback port."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        store = Store(db)
        store.ensure_dataviews(dataviews)
        store.close()
        port = _free_port()
        command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", str(port)]
        command += ["--db", str(db), "--latency-ms", str(latency_ms)]
        env = {**os.environ, "MAMMOTH_API_KEY": "sandbox", "MAMMOTH_API_SECRET": "sandbox"}
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            root = f"http://127.0.0.1:{port}"
            _wait_until_up(root)
            yield Sandbox(f"{root}/api/v2", db, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(root: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{root}/_sandbox/health", headers=_HEADERS).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"the sandbox at {root} did not start within 15 s")


def seed_applied(db: Path, state: DesiredState) -> None:
    """Store every export as an earlier apply would have left it, without the API."""
    store = Store(db)
    try:
        for scope_spec in state.scopes:
            bodies = [_applied_body(spec) for spec in scope_spec.resources]
            add_exports(store, DataviewRef.of(scope_spec.scope), bodies)
    finally:
        store.close()


def _applied_body(spec: ExportSpec) -> dict[str, object]:
    return {
        "handler_type": spec.handler_type,
        "trigger_type": spec.trigger_type,
        "target_properties": dict(spec.target_properties),
        "additional_properties": {"exportctl": export_marker(spec, new_salt())},
    }


def machine() -> str:
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs ({platform.machine()}), "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def best_of(runs: int, call: Callable[[], object]) -> str:
    """Run ``call`` ``runs`` times; the best and worst wall time, the best CPU time.

    Best-of is the figure least disturbed by whatever else the machine does;
    the load average is printed with it so a reader can judge.
    """
    walls, cpus = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return (
        f"best of {runs}: {min(walls):.3f} s wall, {min(cpus):.3f} s CPU "
        f"(worst {max(walls):.3f} s wall); load average {os.getloadavg()[0]:.2f}"
    )
