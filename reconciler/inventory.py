"""What ``exportctl get`` lists: every live resource of the selected scopes, as data.

Built from a plan, which has already matched each live resource to the
manifest, so ``get`` and ``plan`` can never disagree on which resources are
exportctl's (``managed``: it carries exportctl's marker) and where each stands.

Of a snapshot scope's runs, those the plan looked at are listed: the fresh
run an entry is content with, one still running, and those beyond ``keep``.
They are ``managed``: an entry of the manifest asked for their request. Older
runs the plan passed over are not; the provider's own tools list every run.
"""

from __future__ import annotations

from typing import Any

from reconciler.model import LiveRun
from reconciler.plan import Action, Plan

__all__ = ["INVENTORY_FORMAT_VERSION", "STATES", "inventory_to_json"]

INVENTORY_FORMAT_VERSION = "1.1"  # 1.1: snapshot runs

# Where a live resource stands against the manifest, by the plan's action for it.
STATES = {
    Action.NOOP: "in sync",
    Action.EDIT: "differs",
    Action.REPLACE: "differs (replace)",
    Action.ADOPT: "to adopt",
    Action.DELETE: "to delete",
    Action.UNMANAGED: "unmanaged",
    Action.FRESH: "fresh",
    Action.WAIT: "running",
}


def inventory_to_json(plan: Plan) -> dict[str, Any]:
    """``{"format_version", "resources": [...]}``, scopes in manifest order, ids as listed."""
    rows = []
    for scope_plan in plan.scopes:
        scope, kind = scope_plan.scope, scope_plan.kind
        for change in scope_plan.changes:
            live = change.live
            if isinstance(live, LiveRun):
                found: tuple[str, str, bool] = (live.run_id, change.type, True)
            elif live is not None and kind is not None:
                found = (live.resource_id, live.type, kind.marker(live) is not None)
            else:
                continue
            resource_id, resource_type, managed = found
            rows.append(
                {
                    "provider": scope.provider,
                    "kind": scope.kind,
                    "noun": scope.noun,
                    "address": scope.address,
                    "id": resource_id,
                    "key": change.key,
                    "type": resource_type,
                    "managed": managed,
                    "state": STATES.get(change.action, change.action.value),
                }
            )
    return {"format_version": INVENTORY_FORMAT_VERSION, "resources": rows}
