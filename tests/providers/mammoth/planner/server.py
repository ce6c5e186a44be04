"""A pure, in-memory stand-in for what the server stores, for planner tests.

It does what the planner must cope with: fills target defaults, masks secret
fields, answers ``null`` for empty objects, picks a sequence when none is sent,
keeps deleted rows with status ``deleted``. ``apply_plan`` executes a plan's
changes on a live state the way the applier would, using the wire bodies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.identity import MARKER_FIELD
from reconciler.model import LiveScope, Scope, thaw
from reconciler.plan import Action, Change, Plan
from reconciler.providers.mammoth.handlers import MASK, is_secret_field
from reconciler.providers.mammoth.kind import target_defaults
from reconciler.providers.mammoth.model import (
    DataviewRef,
    ExportSpec,
    LiveExport,
    live_dataview,
)
from reconciler.providers.mammoth.wire import add_body, edit_body


def masked(value: Any) -> Any:
    """What the API shows: every secret-named field at any depth masked."""
    if isinstance(value, Mapping):
        return {
            k: MASK if is_secret_field(str(k)) and v is not None else masked(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def record_from_body(
    export_id: int, ref: DataviewRef, body: Mapping[str, Any], suspended: bool
) -> dict[str, Any]:
    """The record the server lists after accepting ``body`` for dataview ``ref``."""
    target = {**target_defaults(body["handler_type"]), **body["target_properties"]}
    return {
        "id": export_id,
        "dataview_id": ref.dataview_id,
        "handler_type": body["handler_type"],
        "trigger_type": body["trigger_type"],
        "status": "suspended" if suspended else "executed",
        "sequence": body.get("sequence", export_id * 10),
        "sub_sequence": 0,
        "end_of_pipeline": body["end_of_pipeline"],
        "target_properties": masked(target),
        "condition": body["condition"] or None,
        "additional_properties": body["additional_properties"] or None,
        "runnable": True,
        "last_modified_time": "2024-01-01T00:00:00Z",
    }


def stored_record(
    export_id: int, spec: ExportSpec, ref: DataviewRef, *, salt: str, marked: bool = True
) -> dict[str, Any]:
    """The record of ``spec`` once written by exportctl (``marked``) or by hand."""
    body = add_body(spec, salt=salt)
    if not marked:
        body["additional_properties"].pop(MARKER_FIELD)
    return record_from_body(export_id, ref, body, spec.suspended)


def _exports(live: LiveScope) -> list[LiveExport]:
    """Every export listed, deleted ones too."""
    return [e for e in live.resources if isinstance(e, LiveExport)]


def apply_plan(plan: Plan, live: Mapping[Scope, LiveScope], salt: str) -> dict[Scope, LiveScope]:
    """Execute every change that is not refused, as the applier would."""
    result = dict(live)
    next_id = 1 + max((e.id for dv in live.values() for e in _exports(dv)), default=0)
    for scope_plan in plan.scopes:
        ref = DataviewRef.of(scope_plan.scope)
        before = live.get(scope_plan.scope, LiveScope(scope_plan.scope))
        records = {e.id: _record(e) for e in _exports(before)}
        for change in scope_plan.changes:
            if change.refused is None:
                next_id = _apply(change, ref, records, next_id, salt)
        result[scope_plan.scope] = live_dataview(ref, records.values())
    return result


def _apply(
    change: Change, ref: DataviewRef, records: dict[int, dict[str, Any]], next_id: int, salt: str
) -> int:
    export_id = int(change.resource_id) if change.resource_id is not None else None
    if change.action in (Action.DELETE, Action.REPLACE) and export_id is not None:
        records[export_id]["status"] = "deleted"
    spec = change.desired
    if not isinstance(spec, ExportSpec):
        return next_id
    if change.action in (Action.ADD, Action.REPLACE):
        body = add_body(spec, salt=salt)
        records[next_id] = record_from_body(next_id, ref, body, spec.suspended)
        return next_id + 1
    if change.action in (Action.EDIT, Action.ADOPT) and export_id is not None:
        live = change.live if isinstance(change.live, LiveExport) else None
        body = edit_body(spec, salt=salt, live=live)
        records[export_id] = record_from_body(export_id, ref, body, spec.suspended)
    return next_id


def _record(export: LiveExport) -> dict[str, Any]:
    """The stored record behind a listed export (the fields the client lists)."""
    return {
        "id": export.id,
        "handler_type": export.handler_type,
        "trigger_type": export.trigger_type,
        "status": export.status,
        "sequence": export.sequence,
        "end_of_pipeline": export.end_of_pipeline,
        "target_properties": thaw(export.target_properties),
        "condition": thaw(export.condition) or None,
        "additional_properties": thaw(export.additional_properties) or None,
    }
