"""The drift report's versioned JSON form (``schemas/drift-report.schema.json``).

``exportctl drift`` sorts every entry of the plan into why live differs from
the manifest: changed by hand, not yet applied, missing, unmanaged, and for
snapshots stale or failed. It is read from the plan's JSON form, so drift and
plan cannot disagree, and it lives beside ``plan_json`` for the same reason:
it is a stable machine interface (alerting reads it), not a view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "DRIFT_FORMAT_VERSION",
    "DRIFT_KINDS",
    "INFORMATION",
    "drift_error_to_json",
    "drift_to_json",
]

# 2.0: scopes of any provider (provider, kind, scope), "type" and string ids,
# and the snapshot kinds stale and failed.
# 2.1: "information": unmanaged entries of scopes that say they are not drift;
# "error" (and in_sync false) when drift could not run.
DRIFT_FORMAT_VERSION = "2.1"

# Drift kinds in report order, with their words for people.
DRIFT_KINDS: tuple[tuple[str, str], ...] = (
    ("changed_by_hand", "changed by hand"),
    ("not_yet_applied", "not yet applied"),
    ("missing", "missing"),
    ("unmanaged", "unmanaged"),
    ("stale", "stale"),
    ("failed", "failed"),
)
_KINDS = tuple(kind for kind, _ in DRIFT_KINDS)
# Unmanaged entries of a scope whose manifest says `unmanaged: information`:
# listed for the record, never drift.
INFORMATION = "information"
# For an entry the planner left without a drift kind, the kind its action implies.
_KIND_OF_ACTION = {
    "add": "missing",
    "edit": "not_yet_applied",
    "replace": "not_yet_applied",
    "delete": "not_yet_applied",
    "adopt": "not_yet_applied",
    "unmanaged": "unmanaged",
}


def drift_to_json(plan_json: Mapping[str, Any]) -> dict[str, Any]:
    """Sort the plan's entries by drift kind; no-ops and fresh snapshots are in sync."""
    scopes = [_scope_drift(scope_plan) for scope_plan in plan_json["scopes"]]
    counts = {kind: sum(len(s[kind]) for s in scopes) for kind in (*_KINDS, INFORMATION)}
    return {
        "format_version": DRIFT_FORMAT_VERSION,
        "in_sync": all(s["in_sync"] for s in scopes),
        "counts": {
            "scopes": len(scopes),
            "scopes_drifted": sum(1 for s in scopes if not s["in_sync"]),
            **counts,
        },
        "scopes": scopes,
    }


def drift_error_to_json(message: str) -> dict[str, Any]:
    """What ``drift --format json`` prints when it cannot run: never ``in_sync``."""
    return {**drift_to_json({"scopes": []}), "in_sync": False, "error": message}


def _scope_drift(scope_plan: Mapping[str, Any]) -> dict[str, Any]:
    kinds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _KINDS}
    information: list[dict[str, Any]] = []
    informational = scope_plan.get("unmanaged") == INFORMATION
    for change in scope_plan["changes"]:
        kind = change["drift"] or _KIND_OF_ACTION.get(change["action"])
        if kind == "unmanaged" and informational and change["action"] == "unmanaged":
            information.append(_entry(change, with_fields=True))
        elif kind is not None:
            kinds[kind].append(_entry(change, with_fields=kind not in ("missing", "stale")))
    return {
        "provider": scope_plan["provider"],
        "kind": scope_plan["kind"],
        "scope": dict(scope_plan["scope"]),
        "in_sync": not any(kinds.values()),
        **kinds,
        INFORMATION: information,
    }


def _entry(change: Mapping[str, Any], *, with_fields: bool) -> dict[str, Any]:
    """One drifted entry. A missing resource (or a stale snapshot) has no fields that
    *differ*: the plan's list of what apply would write is detail for ``exportctl
    plan``, noise in an alert."""
    names = ("key", "type", "id", "action", "reason")
    return {
        **{name: change[name] for name in names},
        "fields": change["fields"] if with_fields else [],
    }
