"""What each mutation does to a dataview's pipeline, inside one transaction.

Sequence bookkeeping, as a pipeline list would do it: live exports of a
dataview hold positions 1..n with no gaps. An add without ``sequence``
appends; an add or edit with ``sequence`` inserts or moves the export there
(clamped to the list's end) and shifts the others, which become
``reordered``; a delete closes the gap. Deleted exports keep their row with
status ``deleted`` and ``sequence`` null. ``sub_sequence`` is always 0: the
sandbox has no transformation steps to interleave with.

Every operation is described by a JSON-able *action* so that a 202 answer can
store it in a job and apply it later with the very same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.providers.mammoth import handlers
from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.sandbox.rules import check_server_rules
from reconciler.providers.mammoth.sandbox.store import Tx, timestamp
from reconciler.sandbox.problems import bad_request, not_found

__all__ = ["apply_action", "require_dataview", "require_live_export"]

Action = Mapping[str, Any]


def apply_action(tx: Tx, action: Action) -> dict[str, Any]:
    """Carry out one action; returns the PipelineExortsModificationResp body."""
    ref = DataviewRef(*action["ref"])
    require_dataview(tx, ref)
    op = action["op"]
    if op == "add":
        return _add(tx, ref, action["spec"])
    export = require_live_export(tx, ref, action["export_id"])
    if op == "edit":
        return _edit(tx, ref, export, action["spec"])
    if op == "delete":
        return _delete(tx, ref, export)
    result: dict[str, Any] = {}
    for patch in action["patches"]:
        result = _patch(tx, ref, require_live_export(tx, ref, export["id"]), patch)
    return result


def require_dataview(tx: Tx, ref: DataviewRef) -> None:
    if not tx.dataview_exists(ref):
        raise not_found(f"dataview {ref} does not exist (workspace/project/dataset/dataview)")


def require_live_export(tx: Tx, ref: DataviewRef, export_id: int) -> dict[str, Any]:
    export = tx.export(ref, export_id)
    if export is None or export["status"] == "deleted":
        state = "does not exist" if export is None else "was deleted"
        raise not_found(f"export {export_id} {state} in dataview {ref}")
    return export


def _result(export_id: int, status: str) -> dict[str, Any]:
    return {"trigger_id": export_id, "status": status, "future_id": None}


def _spec_columns(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "handler_type": spec["handler_type"],
        "trigger_type": spec["trigger_type"],
        "end_of_pipeline": spec["end_of_pipeline"],
        "target_properties": spec["target_properties"],
        "additional_properties": spec["additional_properties"],
        "condition": spec["condition"],
    }


def _run_columns(now: str) -> dict[str, Any]:
    """What running an export records. Limitation: no data moves; every run succeeds."""
    return {
        "status": "executed",
        "execution_start_time": now,
        "execution_end_time": now,
        "last_run_result": {"status": "success"},
        "error_info": None,
    }


def _add(tx: Tx, ref: DataviewRef, spec: Mapping[str, Any]) -> dict[str, Any]:
    check_server_rules(tx, ref, spec, None)
    end = tx.live_count(ref) + 1
    sequence = min(spec["sequence"] or end, end)
    tx.shift_sequences(ref, sequence, None, +1)
    now = timestamp()
    columns = {**_spec_columns(spec), "sequence": sequence, "runnable": True}
    columns.update({"status": "added", "last_modified_time": now})
    if spec["run_immediately"]:
        columns.update(_run_columns(now))
    export_id = tx.insert_export(ref, columns)
    return _result(export_id, columns["status"])


def _edit(
    tx: Tx, ref: DataviewRef, export: Mapping[str, Any], spec: Mapping[str, Any]
) -> dict[str, Any]:
    if spec["handler_type"] != export["handler_type"]:
        raise bad_request(
            f"export {export['id']} is a {export['handler_type']} export; an edit cannot change "
            f"handler_type to {spec['handler_type']}: delete it and add a new export"
        )
    target = _keep_masked_secrets(spec["target_properties"], export["target_properties"])
    spec = {**spec, "target_properties": target}
    check_server_rules(tx, ref, spec, export["id"])
    if spec["sequence"] is not None:
        _move(tx, ref, export, spec["sequence"])
    now = timestamp()
    columns = {**_spec_columns(spec), "last_modified_time": now}
    # Editing a suspended export changes its settings but leaves it suspended.
    if export["status"] != "suspended":
        columns["status"] = "edited"
        if spec["run_immediately"]:
            columns.update(_run_columns(now))
    tx.update_export(export["id"], columns)
    return _result(export["id"], columns.get("status", export["status"]))


def _keep_masked_secrets(new: Mapping[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    """A secret sent back as the mask keeps its stored value (what a GET-edit-POST does)."""
    kept: dict[str, Any] = {}
    for name, value in new.items():
        previous = old.get(name)
        if handlers.is_secret_field(name) and value == handlers.MASK and name in old:
            kept[name] = previous
        elif isinstance(value, Mapping) and isinstance(previous, Mapping):
            kept[name] = _keep_masked_secrets(value, previous)
        else:
            kept[name] = value
    return kept


def _move(tx: Tx, ref: DataviewRef, export: Mapping[str, Any], wanted: int) -> None:
    current = export["sequence"]
    target = min(wanted, tx.live_count(ref))
    if target == current:
        return
    if target < current:
        tx.shift_sequences(ref, target, current - 1, +1)
    else:
        tx.shift_sequences(ref, current + 1, target, -1)
    tx.update_export(export["id"], {"sequence": target, "reordered": True})


def _delete(tx: Tx, ref: DataviewRef, export: Mapping[str, Any]) -> dict[str, Any]:
    columns = {"status": "deleted", "sequence": None, "runnable": False}
    tx.update_export(export["id"], {**columns, "last_modified_time": timestamp()})
    tx.shift_sequences(ref, export["sequence"] + 1, None, -1)
    return _result(export["id"], "deleted")


def _patch(
    tx: Tx, ref: DataviewRef, export: Mapping[str, Any], patch: Mapping[str, Any]
) -> dict[str, Any]:
    path = patch["path"]
    if path == "params":
        return _edit(tx, ref, export, patch["value"])
    if path == "discard":
        return _delete(tx, ref, export)
    if path == "suspend":
        return _suspend(tx, export)
    if path == "restore":
        return _restore(tx, export)
    return _run(tx, export)


def _suspend(tx: Tx, export: Mapping[str, Any]) -> dict[str, Any]:
    if export["status"] != "suspended":
        columns = {"status": "suspended", "status_before_suspend": export["status"]}
        tx.update_export(
            export["id"], {**columns, "runnable": False, "last_modified_time": timestamp()}
        )
    return _result(export["id"], "suspended")


def _restore(tx: Tx, export: Mapping[str, Any]) -> dict[str, Any]:
    """Back to the status before suspend; a no-op on an export that is not suspended."""
    if export["status"] != "suspended":
        return _result(export["id"], export["status"])
    status = export["status_before_suspend"] or "edited"
    columns = {"status": status, "status_before_suspend": None, "runnable": True}
    tx.update_export(export["id"], {**columns, "last_modified_time": timestamp()})
    return _result(export["id"], status)


def _run(tx: Tx, export: Mapping[str, Any]) -> dict[str, Any]:
    if export["status"] == "suspended":
        raise bad_request(f"export {export['id']} is suspended: restore it before running it")
    tx.update_export(export["id"], _run_columns(timestamp()))
    return _result(export["id"], "executed")
