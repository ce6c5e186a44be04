"""A whole ``exportctl plan`` process against a slow API, as a user waits for it.

Run by hand: ``python bench/bench_plan_process.py [--dataviews 500] [--exports 20]
[--latency-ms 20] [--parallelism 8,16] [--runs 3]``.

Writes a manifest of N dataviews x M S3 exports (each dataview in a project
of its own), seeds the sandbox database with every export as apply leaves it
(store-level insert, no HTTP), serves it with ``exportctl sandbox serve`` in a
process of its own on loopback with a fixed latency per request, then times
``python -m reconciler plan`` subprocesses: start-up, manifest loading and
checking, listing and planning, rendering, exit. Each row prints the best wall
time of ``--runs`` (the worst next to it), the floor (requests x latency /
parallelism; one list request per dataview for both clients), the ratio, the peak
resident memory of the process, and the CPU time of that best run: the process's
own (with its forked manifest check) and what it cost the sandbox. Both share
the machine's cores: on 2 cores, half their sum is a floor of its own. Rows:

- ``exportctl plan pN`` for each ``--parallelism``, and ``p1`` (one request
  at a time, through the same code) once;
- ``sdk-style pN``: ``sdk_style_list.py``, the listing script a user could
  write with plain httpx (pages of 50, ``asyncio.gather`` under a
  semaphore), which lists and plans nothing: the plan should beat it.

Before those, with no server: ``exportctl --help`` and ``exportctl validate``
of the same manifest, as whole processes.

The issue's targets: at most 1.4x the floor at p8 and 1.6x at p16 (500 x 20,
20 ms, best of three on a quiet machine); ``--help`` under 100 ms and
``validate`` of 10,000 exports under 0.3 s. The load average is printed: a
loaded machine inflates every row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _support import Sandbox, machine, sandbox_process, seed_applied

from reconciler.manifest import load_manifest
from reconciler.providers.mammoth.model import DataviewRef

HERE = Path(__file__).resolve().parent
# As installed, exportctl runs from compiled bytecode; a machine that sets
# PYTHONDONTWRITEBYTECODE would otherwise recompile every module in every run
# (about 0.3 s each). The warm-up runs write the bytecode.
_ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "MAMMOTH_API_KEY": "sandbox",
    "MAMMOTH_API_SECRET": "sandbox",
}


@dataclass(frozen=True)
class Run:
    wall_s: float
    peak_mb: float
    cpu_s: float  # the process's own and its waited-for children's (the forked check)
    server_cpu_s: float | None = None  # what the run cost the sandbox process


def manifest_text(dataviews: int, exports: int) -> str:
    lines = ["version: 1", "defaults: {run_immediately: false, trigger_type: none}", "dataviews:"]
    for view in range(dataviews):
        lines += [
            "  - workspace_id: 1",
            f"    project_id: {1 + view}",
            "    dataset_id: 1",
            f"    dataview_id: {1000 + view}",
            "    exports:",
        ]
        for n in range(exports):
            lines += [
                f"      - key: export-{n}",
                "        handler_type: s3",
                f"        target_properties: {{file: dv{view}_file{n}.csv, file_type: csv}}",
            ]
    return "\n".join(lines) + "\n"


def timed(command: list[str], server: Sandbox | None = None) -> Run:
    """One subprocess: its wall time, peak resident memory and CPU time, and
    the CPU time it cost ``server``. On 2 cores, the client's and the server's
    CPU time together bound the wall time from below (their sum / 2)."""
    server_before = server.cpu_seconds() if server is not None else None
    start = time.perf_counter()
    process = subprocess.Popen(command, env=_ENV, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
    server_after = server.cpu_seconds() if server is not None else None
    served = (
        server_after - server_before
        if server_after is not None and server_before is not None
        else None
    )
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, usage.ru_maxrss / 1024, cpu, served)  # ru_maxrss is in KiB on Linux


def row(label: str, runs: list[Run], requests: int, latency_ms: float, parallelism: int) -> str:
    best = min(runs, key=lambda r: r.wall_s)
    worst = max(r.wall_s for r in runs)
    floor = requests * latency_ms / 1000 / parallelism
    ratio = best.wall_s / floor if floor else float("nan")
    return (
        f"| {label:<20} | {best.wall_s:6.2f} | {worst:6.2f} | {floor:5.2f} | {ratio:5.2f}x "
        f"| {requests:8} | {best.peak_mb:6.0f} | {best.cpu_s:5.2f} "
        f"| {_seconds(best.server_cpu_s):>12} |"
    )


def _seconds(value: float | None) -> str:
    return f"{value:6.2f}" if value is not None else "     -"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dataviews", type=int, default=500)
    parser.add_argument("--exports", type=int, default=20, help="exports per dataview")
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--parallelism", default="8,16", help="comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-p1", action="store_true", help="skip the one-at-a-time row")
    args = parser.parse_args()
    parallelisms = [int(p) for p in args.parallelism.split(",") if p]
    if args.exports >= 50:
        parser.error("--exports must stay under 50: one page per dataview for both clients")
    requests = args.dataviews  # one list request per dataview
    print(f"machine: {machine()}")
    print(
        f"{args.dataviews} dataviews x {args.exports} exports, sandbox latency "
        f"{args.latency_ms:g} ms, best of {args.runs}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "exports.yaml"
        manifest.write_text(manifest_text(args.dataviews, args.exports))
        exportctl = [sys.executable, "-m", "reconciler"]
        for label, command in (
            ("exportctl --help", [*exportctl, "--help"]),
            (f"exportctl validate ({args.dataviews * args.exports} exports)",
             [*exportctl, "validate", "-f", str(manifest)]),
        ):  # fmt: skip
            timed(command)  # warm-up: bytecode and file cache
            runs = [timed(command) for _ in range(args.runs)]
            best = min(runs, key=lambda r: r.wall_s)
            print(f"{label}: best {best.wall_s:.3f} s, peak {best.peak_mb:.0f} MB")
        desired = load_manifest([manifest], environ={})
        refs = [DataviewRef.of(spec.scope) for spec in desired.scopes]
        addresses = Path(tmp) / "addresses.json"
        addresses.write_text(json.dumps([list(ref.ids()) for ref in refs]))
        with sandbox_process(refs, args.latency_ms) as sandbox:
            seed_applied(sandbox.db, desired)
            url = sandbox.base_url

            def plan(p: int) -> list[str]:
                command = [*exportctl, "plan", "-f", str(manifest)]
                return [*command, "--endpoint", url, "--parallelism", str(p), "--no-color"]

            def sdk(p: int) -> list[str]:
                return [
                    sys.executable,
                    str(HERE / "sdk_style_list.py"),
                    url,
                    str(addresses),
                    str(p),
                ]

            timed(plan(8))  # warm the file cache and the server; not measured
            lines = [
                "| run                  | best s | worst s | floor | ratio | requests | peak MB "
                "| CPU s | server CPU s |",
                "|----------------------|-------:|--------:|------:|------:|---------:|--------:"
                "|------:|-------------:|",
            ]
            for p in parallelisms:
                for label, command in (
                    (f"exportctl plan p{p}", plan(p)),
                    (f"sdk-style p{p}", sdk(p)),
                ):
                    runs = [timed(command, sandbox) for _ in range(args.runs)]
                    lines.append(row(label, runs, requests, args.latency_ms, p))
                    print(lines[-1], file=sys.stderr, flush=True)
            if not args.no_p1:
                runs = [timed(plan(1), sandbox)]
                lines.append(row("exportctl plan p1", runs, requests, args.latency_ms, 1))
    print("\n".join(lines))
    print(f"load average after the runs: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
