"""Plans built by hand for the renderer tests: one of every kind of entry."""

from __future__ import annotations

from reconciler.model import Scope
from reconciler.plan import Action, Change, DriftKind, FieldChange, Plan, ScopePlan

SECRET = "hunter2-do-not-print"


def dataview(address: str) -> Scope:
    """A scope shaped like a Mammoth dataview; renderers only read its words."""
    return Scope("mammoth", "exports", address, noun="dataview", resource_noun="export")


DV1 = dataview("1/1/123/456")
DV2 = dataview("1/1/123/789")
DV3 = dataview("1/2/5/6")


def every_action_plan() -> Plan:
    """Two dataviews with changes (one refused), one unchanged, secrets left unredacted."""
    return Plan(
        scopes=(
            ScopePlan(
                DV1,
                (
                    Change(
                        Action.ADD,
                        "monthly-sales",
                        "s3",
                        None,
                        "not in live yet",
                        drift=DriftKind.MISSING,
                    ),
                    Change(
                        Action.EDIT,
                        "weekly",
                        "s3",
                        "12",
                        "changed by hand",
                        fields=(
                            FieldChange("target_properties.file", "a.csv", "b.csv"),
                            FieldChange("condition", {"status": "active"}, None),
                            FieldChange("target_properties.password", SECRET, "x" + SECRET, True),
                        ),
                        drift=DriftKind.CHANGED_BY_HAND,
                    ),
                    Change(Action.NOOP, "daily", "s3", "11", "up to date"),
                    Change(Action.NOOP, "hourly", "s3", "10", "up to date"),
                    Change(
                        Action.UNMANAGED,
                        "s3:other.csv",
                        "s3",
                        "16",
                        "unmarked and matches nothing in the manifest",
                        drift=DriftKind.UNMANAGED,
                    ),
                ),
                live_fingerprint="fp-1",
            ),
            ScopePlan(
                DV2,
                (
                    Change(
                        Action.REPLACE,
                        "orders",
                        "postgres",
                        "13",
                        "handler_type changed",
                        fields=(FieldChange("handler_type", "s3", "postgres"),),
                        drift=DriftKind.NOT_YET_APPLIED,
                        refused="protect is set; remove `protect: true` to allow the replace",
                    ),
                    Change(
                        Action.DELETE,
                        "legacy",
                        "s3",
                        "14",
                        "key left the manifest",
                        drift=DriftKind.NOT_YET_APPLIED,
                    ),
                    Change(
                        Action.ADOPT,
                        "found",
                        "s3",
                        "15",
                        "unmarked export with the same destination",
                        fields=(FieldChange("sequence", None, 2),),
                    ),
                ),
                live_fingerprint="fp-2",
            ),
            ScopePlan(
                DV3,
                (Change(Action.NOOP, "kept", "internal_dataset", "20", "up to date"),),
                live_fingerprint="fp-3",
            ),
        ),
        manifest_digest="sha256:abc",
    )


def in_sync_plan() -> Plan:
    return Plan(
        (
            ScopePlan(
                DV3,
                (Change(Action.NOOP, "kept", "internal_dataset", "20", "up to date"),),
                live_fingerprint="fp-3",
            ),
        ),
        manifest_digest="sha256:def",
    )


def huge_plan(dataviews: int = 300, exports: int = 20) -> Plan:
    """Thousands of edits with field diffs: far over GitHub's comment limit in full."""
    return Plan(
        tuple(
            ScopePlan(
                dataview(f"1/1/100/{1000 + v}"),
                tuple(
                    Change(
                        Action.EDIT,
                        f"export-{e:03d}",
                        "s3",
                        str(v * 100 + e),
                        "manifest changed",
                        fields=(
                            FieldChange("target_properties.file", f"old-{e}.csv", f"new-{e}.csv"),
                        ),
                    )
                    for e in range(exports)
                ),
                live_fingerprint=f"fp-{v}",
            )
            for v in range(dataviews)
        ),
        manifest_digest="sha256:huge",
    )
