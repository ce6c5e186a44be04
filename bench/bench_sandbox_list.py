"""How fast the sandbox lists exports: N keep-alive requests of limit=100.

Run by hand: ``.venv/bin/python bench/bench_sandbox_list.py [N]``. Starts its
own server (``exportctl sandbox serve``, no faults, 0 ms latency) over a
temporary database seeded with 100 exports, and prints the median and p95
latency and the machine.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from reconciler.model import DataviewRef
from reconciler.sandbox.seed import add_exports
from reconciler.sandbox.store import Store

REF = DataviewRef(1, 1, 123, 456)
PATH = "/workspaces/1/projects/1/datasets/123/dataviews/456/pipeline/exports"


def _seed(db: Path) -> None:
    store = Store(db)
    bodies = [
        {"handler_type": "s3", "trigger_type": "none", "target_properties": {"file": f"{i}.csv"}}
        for i in range(100)
    ]
    add_exports(store, REF, bodies)
    store.close()


def _start(db: Path) -> tuple[subprocess.Popen[str], str]:
    """The server in its own process, as users run it: the client shares no GIL with it."""
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0"]
    server = subprocess.Popen(
        [*command, "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert server.stdout is not None
    match = re.search(r"http://\S+/api/v2", server.stdout.readline())
    assert match, "the sandbox did not say where it listens"
    return server, match.group(0)


def _time(base_url: str, requests: int) -> list[float]:
    headers = {"X-API-KEY": "sandbox", "X-API-SECRET": "sandbox"}
    timings = []
    with httpx.Client(base_url=base_url, headers=headers) as api:
        for _ in range(50):  # warm up: every worker thread opens its SQLite connection
            api.get(PATH, params={"limit": 100})
        for _ in range(requests):
            started = time.perf_counter()
            response = api.get(PATH, params={"limit": 100})
            timings.append((time.perf_counter() - started) * 1000)
            assert len(response.json()["exports"]) == 100
    return sorted(timings)


def main(requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        _seed(db)
        server, base_url = _start(db)
        try:
            timings = _time(base_url, requests)
        finally:
            server.terminate()
            server.wait()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"list limit=100, {requests} requests: median {statistics.median(timings):.2f} ms, "
        f"p95 {p95:.2f} ms"
    )
    print(
        f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
