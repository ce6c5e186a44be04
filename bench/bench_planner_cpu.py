"""CPU time of ``make_plan`` on 10,000 exports over 500 dataviews (target < 1 s).

Live state is what exportctl would have written, with every 10th export
changed (a field by hand, a rotated secret, or missing) and a few unmanaged
exports. Half the exports hold a secret: without ``EXPORTCTL_MARKER_KEY``
a plan stretches each distinct secret once (PBKDF2, about 1 ms), so one
secret per export is the worst case and a shared one the usual. Run by
hand: ``.venv/bin/python bench/bench_planner_cpu.py [--dataviews 500]``;
``--dataviews 2500`` is the big estate of 50,000 exports (targets: under
2.5 s and 500 MB). Also prints the process's peak resident
memory: desired state, live state and plans together.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from dataclasses import replace

from _support import machine

from reconciler.identity import MARKER_KEY_ENV, _stretch
from reconciler.model import DesiredState, LiveScope, Scope, freeze
from reconciler.plan import Action
from reconciler.planner import make_plan
from reconciler.providers.mammoth.handlers import MASK
from reconciler.providers.mammoth.kind import dataview_spec, export_marker
from reconciler.providers.mammoth.model import DataviewRef, ExportSpec, LiveExport

PER_DATAVIEW = 20
SALT = "0123456789abcdef"


def desired_export(n: int, shared_secret: bool) -> ExportSpec:
    password = "pw-shared" if shared_secret else f"pw-{n}"
    target = (
        {"file": f"file_{n}.csv", "password": password} if n % 2 else {"dataset_name": f"ds_{n}"}
    )
    return ExportSpec(
        key=f"export-{n}",
        handler_type="s3" if n % 2 else "internal_dataset",
        trigger_type="pipeline",
        target_properties=freeze(target),
        condition=freeze({"status": "active"}),
    )


def live_export(n: int, spec: ExportSpec, every: int) -> LiveExport | None:
    """The export as listed; 4 in every ``every`` differ in some way."""
    target = {k: MASK if k == "password" else v for k, v in spec.target_properties.items()}
    if spec.handler_type == "s3":
        target.update(file_type="csv", include_hidden=False, is_format_set=True, use_format=True)
    marker = export_marker(spec, SALT)
    trigger = spec.trigger_type
    if n % every == 1:
        trigger = "none"  # changed by hand
    elif n % every == 3:
        old_secret = freeze({**spec.target_properties, "password": "old"})
        marker = export_marker(replace(spec, target_properties=old_secret), SALT)
    elif n % every == 7:
        target["include_hidden"] = True  # a nested change: deepdiff runs
    elif n % every == 5:
        return None
    return LiveExport.from_api(
        {
            "id": n,
            "handler_type": spec.handler_type,
            "trigger_type": trigger,
            "status": "executed",
            "sequence": n,
            "end_of_pipeline": True,
            "target_properties": target,
            "condition": {"status": "active"},
            "additional_properties": {"exportctl": marker},
            "last_modified_time": "2024-01-01T00:00:00Z",
        }
    )


def build(
    dataview_count: int, every: int, shared_secret: bool
) -> tuple[DesiredState, dict[Scope, LiveScope]]:
    dataviews, live = [], {}
    for v in range(dataview_count):
        ref = DataviewRef(1, 1, 1, 1000 + v)
        specs = [desired_export(v * PER_DATAVIEW + i, shared_secret) for i in range(PER_DATAVIEW)]
        exports = [live_export(v * PER_DATAVIEW + i, s, every) for i, s in enumerate(specs)]
        unmanaged = LiveExport.from_api(
            {"id": 10**6 + v, "handler_type": "s3", "target_properties": {"file": "legacy.csv"}}
        )
        dataviews.append(dataview_spec(ref, tuple(specs)))
        live[ref.scope] = LiveScope(ref.scope, (*(e for e in exports if e is not None), unmanaged))
    return DesiredState(tuple(dataviews), digest="bench"), live


def run(label: str, dataview_count: int, every: int, *, shared_secret: bool = False) -> None:
    desired, live = build(dataview_count, every, shared_secret)
    make_plan(desired, live)  # warm the schema caches, as a real run's first dataview would
    # A plan runs in a process of its own: it remembers no stretch from the
    # apply that wrote the markers (here, this process).
    _stretch.cache_clear()
    start = time.process_time()
    plan = make_plan(desired, live)
    elapsed = time.process_time() - start
    counts = ", ".join(f"{a.value}={plan.counts()[a]}" for a in Action if plan.counts()[a])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"{label}: make_plan CPU time {elapsed:.3f} s; {counts}; peak memory {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dataviews", type=int, default=500, help="20 exports each")
    dataview_count = parser.parse_args().dataviews
    print(f"machine: {machine()}")
    print(f"{dataview_count * PER_DATAVIEW} desired exports over {dataview_count} dataviews")
    run("light drift (8% differ), one secret per export", dataview_count, every=50)
    run("light drift, one secret shared by all", dataview_count, every=50, shared_secret=True)
    run("heavy drift (40% differ), one shared secret", dataview_count, 10, shared_secret=True)
    os.environ[MARKER_KEY_ENV] = "bench-key"  # markers keyed: an HMAC, no stretch
    run("light drift, one secret per export, EXPORTCTL_MARKER_KEY set", dataview_count, 50)


if __name__ == "__main__":
    main()
