"""The versioned JSON form of a plan (``schemas/plan.schema.json``).

This is exportctl's stable machine interface: scripts parse it, the text and
Markdown views are rendered from it, and saved plan files embed it. Additive
changes bump ``FORMAT_VERSION``'s minor part; breaking ones bump the major part.

It lives beside ``plan.py`` and ``planfile.py``, not in ``render/``: it is read
back as well as written (saved plans, apply's replay), so it is the plan's data
in another shape, not a view of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # Limitation: no stubs in the venv

from reconciler._resources import load_schema
from reconciler.errors import PlanFileError
from reconciler.fastcheck import Check, compile_schema, first_problem
from reconciler.model import DataviewRef, freeze, thaw
from reconciler.plan import SENSITIVE, Action, Change, DataviewPlan, DriftKind, FieldChange, Plan

__all__ = [
    "FORMAT_VERSION",
    "PlanJson",
    "check_format_version",
    "plan_from_checked_json",
    "plan_from_json",
    "plan_to_json",
    "validate_plan_json",
]

FORMAT_VERSION = "1.0"

PlanJson = dict[str, Any]


def plan_to_json(plan: Plan) -> PlanJson:
    """The plan as plain JSON; sensitive field values are redacted whatever they hold."""
    counts = plan.counts()
    return {
        "format_version": FORMAT_VERSION,
        "manifest_digest": plan.manifest_digest,
        "summary": {
            "counts": {action.value: counts.get(action, 0) for action in Action},
            "has_changes": plan.has_changes,
        },
        "dataviews": [_dataview_to_json(dataview) for dataview in plan.dataviews],
    }


def _dataview_to_json(dataview: DataviewPlan) -> dict[str, Any]:
    ref = dataview.ref
    return {
        "dataview": {
            "workspace_id": ref.workspace_id,
            "project_id": ref.project_id,
            "dataset_id": ref.dataset_id,
            "dataview_id": ref.dataview_id,
            "address": str(ref),
        },
        "live_fingerprint": dataview.live_fingerprint,
        "changes": [_change_to_json(change) for change in dataview.changes],
    }


def _change_to_json(change: Change) -> dict[str, Any]:
    return {
        "action": change.action.value,
        "symbol": change.action.symbol,
        "key": change.key,
        "handler_type": change.handler_type,
        "export_id": change.export_id,
        "reason": change.reason,
        "refused": change.refused,
        "drift": change.drift.value if change.drift else None,
        "fields": [_field_to_json(field) for field in change.fields],
    }


def _field_to_json(field: FieldChange) -> dict[str, Any]:
    return {
        "path": field.path,
        "old": _redacted(field.old) if field.sensitive else _json_value(field.old),
        "new": _redacted(field.new) if field.sensitive else _json_value(field.new),
        "sensitive": field.sensitive,
    }


def _redacted(value: Any) -> str | None:
    """Defence in depth: the planner redacts already, but a slip must not leak.

    Absence (``None``) is kept: it tells a reviewer a secret is being set or
    removed without telling anything about the secret.
    """
    return None if value is None else SENSITIVE


def _json_value(value: Any) -> Any:
    """Frozen containers become lists and dicts; anything JSON cannot hold becomes text."""
    plain = thaw(value)
    if isinstance(plain, dict):
        return {str(k): _json_value(v) for k, v in plain.items()}
    if isinstance(plain, list):
        return [_json_value(v) for v in plain]
    if plain is None or isinstance(plain, str | int | float | bool):
        return plain
    # Limitation: an exotic value (a deepdiff marker, a set) is shown by its str().
    return str(plain)


def check_format_version(version: object, *, supported: str, what: str) -> None:
    """Refuse a ``MAJOR.MINOR`` version this exportctl cannot read faithfully.

    A newer minor version may carry fields apply would need, so it is refused
    too; ``what`` names the document in the message.
    """
    parsed = _parse_version(version)
    ours = _parse_version(supported)
    assert ours is not None
    if parsed is None:
        raise PlanFileError(
            f"{what} has an invalid format_version {version!r}; expected MAJOR.MINOR "
            f"such as {supported!r}. Re-create it with `exportctl plan --out`."
        )
    if parsed[0] != ours[0] or parsed[1] > ours[1]:
        readable = f"{ours[0]}.0 to {supported}" if ours[1] else supported
        raise PlanFileError(
            f"{what} uses format_version {version}, which this exportctl cannot read "
            f"(it reads {readable}). Use the exportctl version that wrote it, or "
            "re-create it with `exportctl plan --out`."
        )


def _parse_version(version: object) -> tuple[int, int] | None:
    if not isinstance(version, str):
        return None
    major, dot, minor = version.partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        return None
    return int(major), int(minor)


def validate_plan_json(data: object, *, what: str = "The plan") -> PlanJson:
    """Check version, then shape; raise ``PlanFileError`` naming the first problem."""
    if not isinstance(data, Mapping) or "format_version" not in data:
        raise PlanFileError(f"{what} is not an exportctl plan: it has no format_version.")
    check_format_version(data["format_version"], supported=FORMAT_VERSION, what=what)
    problem = first_problem(_fast_check(), _validator(), data)
    if problem is not None:
        raise PlanFileError(
            f"{what} is not a valid exportctl plan: {problem}. "
            "Re-create it with `exportctl plan --out`."
        )
    return dict(data)


@cache
def _validator() -> Any:
    return jsonschema.Draft202012Validator(load_schema("plan.schema.json"))


@cache
def _fast_check() -> Check:
    return compile_schema(load_schema("plan.schema.json"))


def plan_from_json(data: object) -> Plan:
    """Rebuild a ``Plan`` from its JSON form, e.g. from a saved plan file.

    The desired and live specs are not part of the JSON form, so the changes
    come back without them: apply re-reads both before it acts.
    """
    return plan_from_checked_json(validate_plan_json(data))


def plan_from_checked_json(plan_json: PlanJson) -> Plan:
    """``plan_from_json`` for JSON ``validate_plan_json`` has already accepted.

    Saved plans check the plan before the file around it (to report the plan's
    problems first); checking it a second time would cost a large plan's load
    a third of its time.
    """
    return Plan(
        dataviews=tuple(_dataview_from_json(dv) for dv in plan_json["dataviews"]),
        manifest_digest=plan_json["manifest_digest"],
    )


def _dataview_from_json(data: Mapping[str, Any]) -> DataviewPlan:
    ref = data["dataview"]
    return DataviewPlan(
        ref=DataviewRef(
            ref["workspace_id"], ref["project_id"], ref["dataset_id"], ref["dataview_id"]
        ),
        changes=tuple(_change_from_json(change) for change in data["changes"]),
        live_fingerprint=data["live_fingerprint"],
    )


def _change_from_json(data: Mapping[str, Any]) -> Change:
    return Change(
        action=Action(data["action"]),
        key=data["key"],
        handler_type=data["handler_type"],
        export_id=data["export_id"],
        reason=data["reason"],
        fields=tuple(
            FieldChange(f["path"], freeze(f["old"]), freeze(f["new"]), f["sensitive"])
            for f in data["fields"]
        ),
        drift=DriftKind(data["drift"]) if data["drift"] is not None else None,
        refused=data["refused"],
    )
