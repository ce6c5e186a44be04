"""Small builders for planner tests: desired specs, live records, markers."""

from __future__ import annotations

from typing import Any

from reconciler.identity import MARKER_FIELD
from reconciler.model import DesiredState, LiveScope, Prune, freeze
from reconciler.plan import Change, Plan
from reconciler.planner import make_plan
from reconciler.providers.mammoth.kind import dataview_spec, export_marker
from reconciler.providers.mammoth.model import DataviewRef, ExportSpec, LiveExport
from tests.providers.mammoth.planner.server import stored_record

REF = DataviewRef(1, 1, 123, 456)
SALT = "00ff00ff00ff00ff"


def spec(key: str = "sales", file: str = "sales.csv", **fields: Any) -> ExportSpec:
    """A desired s3 export; ``fields`` override any ExportSpec field."""
    values: dict[str, Any] = {
        "key": key,
        "handler_type": "s3",
        "trigger_type": "pipeline",
        "target_properties": {"file": file},
    }
    values.update(fields)
    for name in ("target_properties", "condition", "additional_properties", "env_refs"):
        if name in values:
            values[name] = freeze(values[name])
    return ExportSpec(**values)


def live(
    export_id: int = 10,
    of: ExportSpec | None = None,
    *,
    marked: bool = True,
    salt: str = SALT,
    **record: Any,
) -> LiveExport:
    """A live export as the server would list it after exportctl wrote ``of``.

    Defaults are filled, secrets masked; ``record`` overrides any raw field.
    """
    desired = of if of is not None else spec()
    raw = stored_record(export_id, desired, REF, salt=salt, marked=marked)
    raw.update(record)
    return LiveExport.from_api(raw)


def state(*exports: ExportSpec, prune: Prune = Prune.MANAGED) -> DesiredState:
    return DesiredState((dataview_spec(REF, exports, prune=prune),), digest="d1")


def plan(desired: DesiredState, *exports: LiveExport) -> Plan:
    ordered = tuple(sorted(exports, key=lambda e: e.id))
    return make_plan(desired, {REF.scope: LiveScope(REF.scope, ordered)})


def only(result: Plan) -> Change:
    """The single change of a one-export plan."""
    (change,) = result.scopes[0].changes
    return change


def marker(of: ExportSpec, salt: str = SALT) -> dict[str, Any]:
    return {MARKER_FIELD: export_marker(of, salt)}
