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

from reconciler._resources import load_schema
from reconciler.errors import PlanFileError
from reconciler.fastcheck import Check, compile_schema, first_problem
from reconciler.model import FrozenDict, Scope, Unmanaged, freeze, thaw
from reconciler.plan import SENSITIVE, Action, Change, DriftKind, FieldChange, Plan, ScopePlan

__all__ = [
    "FORMAT_VERSION",
    "PlanJson",
    "check_format_version",
    "plan_error_to_json",
    "plan_from_checked_json",
    "plan_from_json",
    "plan_to_json",
    "scope_from_json",
    "scope_to_json",
    "validate_plan_json",
]

# 2.1: an optional "preflight" verdict (plan --preflight); a scope's optional
# "unmanaged": "information" (its unmanaged entries are not drift); "error"
# when plan failed.
# 2.0: each scope names its provider and carries its address and fields
# opaquely; ids are strings; snapshots' run, wait and fresh actions.
FORMAT_VERSION = "2.1"

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
        "scopes": [_scope_plan_to_json(scope_plan) for scope_plan in plan.scopes],
    }


def plan_error_to_json(message: str) -> PlanJson:
    """What ``plan --format json`` prints when it fails: an empty plan and the error.

    A script reading stdout gets a document either way (as from ``apply``);
    the same message goes to stderr.
    """
    return {**plan_to_json(Plan(())), "error": message}


def scope_to_json(scope: Scope) -> dict[str, Any]:
    """A scope as format 2 carries it: its provider and kind beside it, the rest here."""
    return {
        "address": scope.address,
        "noun": scope.noun,
        "resource_noun": scope.resource_noun,
        "fields": thaw(scope.fields),
    }


def scope_from_json(provider: str, kind: str, data: Mapping[str, Any]) -> Scope:
    fields: FrozenDict = freeze(data["fields"])
    return Scope(provider, kind, data["address"], fields, data["noun"], data["resource_noun"])


def _scope_plan_to_json(scope_plan: ScopePlan) -> dict[str, Any]:
    scope = scope_plan.scope
    return {
        "provider": scope.provider,
        "kind": scope.kind,
        "scope": scope_to_json(scope),
        "live_fingerprint": scope_plan.live_fingerprint,
        "changes": [_change_to_json(change) for change in scope_plan.changes],
        # Only when set, so plans of scopes without the setting read as before.
        **(
            {"unmanaged": scope_plan.unmanaged.value}
            if scope_plan.unmanaged is not Unmanaged.DRIFT
            else {}
        ),
    }


def _change_to_json(change: Change) -> dict[str, Any]:
    return {
        "action": change.action.value,
        "symbol": change.action.symbol,
        "key": change.key,
        "type": change.type,
        "id": change.resource_id,
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
    if parsed[0] < ours[0]:
        raise PlanFileError(
            f"{what} uses format_version {version}, written by an older exportctl; this one "
            f"reads {supported}. Run plan again to make a new one (`exportctl plan --out FILE`)."
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
    problem = first_problem(_fast_check(), _validator, data)
    if problem is not None:
        raise PlanFileError(
            f"{what} is not a valid exportctl plan: {problem}. "
            "Re-create it with `exportctl plan --out`."
        )
    return dict(data)


@cache
def _validator() -> Any:
    """Built only for an invalid plan: importing jsonschema costs start-up time."""
    import jsonschema  # type: ignore[import-untyped]  # Limitation: no stubs in the venv

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
        scopes=tuple(_scope_plan_from_json(sp) for sp in plan_json["scopes"]),
        manifest_digest=plan_json["manifest_digest"],
    )


def _scope_plan_from_json(data: Mapping[str, Any]) -> ScopePlan:
    return ScopePlan(
        scope=scope_from_json(data["provider"], data["kind"], data["scope"]),
        changes=tuple(_change_from_json(change) for change in data["changes"]),
        live_fingerprint=data["live_fingerprint"],
        unmanaged=Unmanaged(data.get("unmanaged", Unmanaged.DRIFT.value)),
    )


def _change_from_json(data: Mapping[str, Any]) -> Change:
    return Change(
        action=Action(data["action"]),
        key=data["key"],
        type=data["type"],
        resource_id=data["id"],
        reason=data["reason"],
        fields=tuple(
            FieldChange(f["path"], freeze(f["old"]), freeze(f["new"]), f["sensitive"])
            for f in data["fields"]
        ),
        drift=DriftKind(data["drift"]) if data["drift"] is not None else None,
        refused=data["refused"],
    )
