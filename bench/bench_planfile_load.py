"""How long loading a saved plan takes: 10,000 changes over 100 dataviews.

Run by hand: ``python bench/bench_planfile_load.py``. ``exportctl apply PLANFILE``
and ``exportctl show`` start with ``load_plan``: reading, checking the file and
plan schemas, and rebuilding the ``Plan``. Prints the best of several runs and
the machine it ran on.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _support import best_of, machine

from reconciler.model import DataviewRef
from reconciler.plan import Action, Change, DataviewPlan, DriftKind, FieldChange, Plan
from reconciler.planfile import load_plan, save_plan, secret_address

DATAVIEWS = 100
CHANGES_PER_DATAVIEW = 100
RUNS = 5


def big_plan() -> Plan:
    """Edits with a few field changes each, adds, and deletes, as a large apply would hold."""
    return Plan(
        dataviews=tuple(
            DataviewPlan(
                DataviewRef(1, 1, 1000 + view, 2000 + view),
                tuple(change(index) for index in range(CHANGES_PER_DATAVIEW)),
                live_fingerprint=f"fp-{view}",
            )
            for view in range(DATAVIEWS)
        ),
        manifest_digest="0" * 64,
    )


def change(index: int) -> Change:
    key = f"export-{index}"
    if index % 3 == 0:
        return Change(Action.ADD, key, "s3", None, "not in live yet", drift=DriftKind.MISSING)
    if index % 3 == 1:
        fields = (
            FieldChange("target_properties.file", f"old_{index}.csv", f"new_{index}.csv"),
            FieldChange("condition", {"status": "active"}, {"status": ["active", "new"]}),
            FieldChange("target_properties.password", "(sensitive)", "(sensitive)", True),
        )
        return Change(
            Action.EDIT, key, "postgres", index, "changed by hand", fields=fields,
            drift=DriftKind.CHANGED_BY_HAND,
        )  # fmt: skip
    return Change(Action.DELETE, key, "s3", index, "key left the manifest")


def main() -> None:
    plan = big_plan()
    hashes = {secret_address(DataviewRef(1, 1, 1000, 2000), "export-1", "password"): _HASH}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "plan.json"
        save_plan(path, plan, secret_hashes=hashes, sources=["exports.yaml"])
        size = path.stat().st_size
        figures = best_of(RUNS, lambda: load_plan(path))
        saved = load_plan(path)
    changes = sum(len(dataview.changes) for dataview in saved.plan.dataviews)
    print(f"load_plan: {changes} changes, {size / 1e6:.1f} MB")
    print(figures)
    print(f"machine: {machine()}")


_HASH = "pbkdf2-sha256$1000$" + "0" * 64

if __name__ == "__main__":
    main()
