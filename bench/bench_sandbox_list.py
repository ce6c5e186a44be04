"""How fast the sandbox lists exports: N keep-alive requests of limit=100.

Run by hand: ``.venv/bin/python bench/bench_sandbox_list.py [N]``. Starts its
own server (``exportctl sandbox serve``, no faults, 0 ms latency) over a
temporary database seeded with 100 exports, and prints the median and p95
latency and the machine.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import httpx
from _support import machine, sandbox_process

from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.sandbox.seed import add_exports
from reconciler.providers.mammoth.sandbox.store import Store

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
    with sandbox_process([REF], latency_ms=0) as sandbox:
        _seed(sandbox.db)
        timings = _time(sandbox.base_url, requests)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"list limit=100, {requests} requests: median {statistics.median(timings):.2f} ms, "
        f"p95 {p95:.2f} ms"
    )
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
