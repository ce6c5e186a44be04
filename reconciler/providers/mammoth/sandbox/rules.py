"""Rules only a server can check: they need the platform's current state.

They give ``apply``'s preflight (``validate_only``) something real to catch.
Each raises a 400 whose detail names the clash and the other export.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.providers.mammoth import handlers
from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.sandbox.store import Tx
from reconciler.sandbox.problems import bad_request

__all__ = ["check_server_rules"]


def check_server_rules(
    tx: Tx, ref: DataviewRef, spec: Mapping[str, Any], export_id: int | None
) -> None:
    """Raise a 400 if ``spec`` (for ``export_id``, or a new export) breaks a server rule."""
    target = spec["target_properties"]
    _check_connection(tx, target)
    # Which destinations are unique, and where, is a handler fact in
    # schemas/targets (x-exportctl-unique-within), shared with `validate`.
    scope = handlers.unique_within(spec["handler_type"])
    if scope is None:
        return
    # Limitation: single-field destinations only (the store indexes those fields).
    (field,) = handlers.address_fields(spec["handler_type"])
    if field in target:
        _check_unique(tx, ref, spec, export_id, field, same_dataview=scope == "dataview")


def _check_connection(tx: Tx, target: Mapping[str, Any]) -> None:
    connection = target.get("connection_id")
    if connection is None:
        return
    known = tx.connection_ids()
    if str(connection) not in known:
        listed = ", ".join(known) if known else "none"
        raise bad_request(
            f"target_properties.connection_id {connection!r} is not a known connection "
            f"(known: {listed}); create the connection in Mammoth first"
        )


def _check_unique(
    tx: Tx,
    ref: DataviewRef,
    spec: Mapping[str, Any],
    export_id: int | None,
    field: str,
    *,
    same_dataview: bool,
) -> None:
    value = spec["target_properties"][field]
    if not isinstance(value, str | int | float):
        return  # Limitation: only scalar destinations are compared.
    clashes = tx.live_exports_with(
        spec["handler_type"], ref.workspace_id, ref.project_id, field, value
    )
    for other in clashes:
        if other["id"] == export_id:
            continue
        if same_dataview and (other["dataset_id"], other["dataview_id"]) != (
            ref.dataset_id,
            ref.dataview_id,
        ):
            continue
        scope = "this dataview" if same_dataview else "this project"
        raise bad_request(
            f"target_properties.{field} {value!r} is already used by export {other['id']} "
            f"of {scope} (dataview {other['dataview_id']}); choose another {field}"
        )
