"""What ``exportctl get`` lists: every live resource of the selected scopes, as data.

Built from a plan, which has already matched each live resource to the
manifest, so ``get`` and ``plan`` can never disagree on which resources are
exportctl's (``managed``: it carries exportctl's marker) and where each stands.
Snapshot runs are not listed: they are one-off runs, not resources.
"""

from __future__ import annotations

from typing import Any

from reconciler.model import LiveRun
from reconciler.plan import Action, Plan

__all__ = ["INVENTORY_FORMAT_VERSION", "STATES", "inventory_to_json"]

INVENTORY_FORMAT_VERSION = "1.0"

# Where a live resource stands against the manifest, by the plan's action for it.
STATES = {
    Action.NOOP: "in sync",
    Action.EDIT: "differs",
    Action.REPLACE: "differs (replace)",
    Action.ADOPT: "to adopt",
    Action.DELETE: "to delete",
    Action.UNMANAGED: "unmanaged",
}


def inventory_to_json(plan: Plan) -> dict[str, Any]:
    """``{"format_version", "resources": [...]}``, scopes in manifest order, ids as listed."""
    rows = []
    for scope_plan in plan.scopes:
        scope, kind = scope_plan.scope, scope_plan.kind
        for change in scope_plan.changes:
            live = change.live
            if live is None or isinstance(live, LiveRun) or kind is None:
                continue
            rows.append(
                {
                    "provider": scope.provider,
                    "kind": scope.kind,
                    "noun": scope.noun,
                    "address": scope.address,
                    "id": live.resource_id,
                    "key": change.key,
                    "type": live.type,
                    "managed": kind.marker(live) is not None,
                    "state": STATES.get(change.action, change.action.value),
                }
            )
    return {"format_version": INVENTORY_FORMAT_VERSION, "resources": rows}
