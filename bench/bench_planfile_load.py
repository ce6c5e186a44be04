"""How long saved plans take: loading 10,000 changes, and the secrets of 300 exports.

Run by hand: ``python bench/bench_planfile_load.py``. ``exportctl apply PLANFILE``
and ``exportctl show`` start with ``load_plan``: reading, checking the file and
plan schemas, and rebuilding the ``Plan``. ``plan --out`` hashes the manifest's
secrets and ``apply PLANFILE`` checks them again: a manifest with hundreds of
secrets must not pay a slow derivation per secret. Prints the best of several
runs and the machine it ran on.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _support import best_of, machine

from reconciler.apply.saved import check_secrets
from reconciler.plan import Action, Change, DriftKind, FieldChange, Plan, ScopePlan
from reconciler.planfile import load_plan, save_plan, secret_address
from reconciler.providers.mammoth.model import DataviewRef

DATAVIEWS = 100
CHANGES_PER_DATAVIEW = 100
SECRETS = 300
RUNS = 5


def big_plan() -> Plan:
    """Edits with a few field changes each, adds, and deletes, as a large apply would hold."""
    return Plan(
        scopes=tuple(
            ScopePlan(
                DataviewRef(1, 1, 1000 + view, 2000 + view).scope,
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
            Action.EDIT, key, "postgres", str(index), "changed by hand", fields=fields,
            drift=DriftKind.CHANGED_BY_HAND,
        )  # fmt: skip
    return Change(Action.DELETE, key, "s3", str(index), "key left the manifest")


def main() -> None:
    plan = big_plan()
    secrets = {secret_address(DataviewRef(1, 1, 1000, 2000).scope, "export-1", "password"): "pw"}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "plan.json"
        save_plan(path, plan, secrets=secrets, sources=["exports.yaml"])
        size = path.stat().st_size
        figures = best_of(RUNS, lambda: load_plan(path))
        saved = load_plan(path)
        secret_figures = secrets_figures(Path(directory) / "secrets.json")
    changes = sum(len(dataview.changes) for dataview in saved.plan.scopes)
    print(f"load_plan: {changes} changes, {size / 1e6:.1f} MB")
    print(figures)
    print(f"save_plan + load_plan + check_secrets: {SECRETS} secrets, no changes")
    print(secret_figures)
    print(f"machine: {machine()}")


def secrets_figures(path: Path) -> str:
    """``plan --out`` then ``apply PLANFILE``'s secret check, for a secret-heavy manifest."""
    ref = DataviewRef(1, 1, 1000, 2000)
    secrets = {
        secret_address(ref.scope, f"export-{i}", "target_properties.password"): f"pw-{i}"
        for i in range(SECRETS)
    }
    empty = Plan((), manifest_digest="0" * 64)

    def save_and_check() -> None:
        save_plan(path, empty, secrets=secrets, sources=["exports.yaml"])
        check_secrets(load_plan(path), secrets, str(path))

    return best_of(RUNS, save_and_check)


if __name__ == "__main__":
    main()
