"""Checks on request bodies that need no database: AddExportSpec and ExportPatch.

The handler facts (required target fields, defaults) come from
``schemas/targets/<handler>.json`` through ``reconciler.providers.mammoth.handlers``, the
same files the manifest validator reads. A handler without a schema file yet
has no requirements and no defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from reconciler.providers.mammoth import handlers
from reconciler.sandbox.problems import HttpProblem, bad_request

__all__ = ["PATCH_PATHS", "check_target", "parse_add_spec", "parse_patches"]

_REQUIRED = ("DATAVIEW_ID", "handler_type", "run_immediately", "trigger_type")
_OBJECT_FIELDS = ("target_properties", "additional_properties", "condition")
_BOOL_FIELDS = ("end_of_pipeline", "run_immediately", "validate_only")
_OPTIONAL_INT_FIELDS = ("sequence", "TRIGGER_ID")
_KNOWN_FIELDS = frozenset({*_REQUIRED, *_OBJECT_FIELDS, *_BOOL_FIELDS, *_OPTIONAL_INT_FIELDS})
PATCH_PATHS = ("run", "suspend", "restore", "discard", "params")
_PATCH_OPS = ("replace", "command")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_problem(where: str, field: str, message: str) -> HttpProblem:
    return bad_request(
        f"{where}: {field} {message}", [{"key": field, "message": message, "source": "body"}]
    )


def _check_shape(body: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(body) - _KNOWN_FIELDS)
    if unknown:
        raise _field_problem(where, unknown[0], "is not a field of AddExportSpec")
    for name in _REQUIRED:
        if name not in body:
            raise _field_problem(where, name, "is required")
    if not _is_int(body["DATAVIEW_ID"]):
        raise _field_problem(where, "DATAVIEW_ID", "must be an integer")
    for name in _OPTIONAL_INT_FIELDS:
        if body.get(name) is not None and not _is_int(body[name]):
            raise _field_problem(where, name, "must be an integer or null")
    for name in _BOOL_FIELDS:
        if name in body and not isinstance(body[name], bool):
            raise _field_problem(where, name, "must be true or false")
    for name in _OBJECT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise _field_problem(where, name, "must be an object")
    _check_choice(where, "handler_type", body["handler_type"], handlers.HANDLER_TYPES)
    _check_choice(where, "trigger_type", body["trigger_type"], handlers.TRIGGER_TYPES)


def _check_choice(where: str, field: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise _field_problem(where, field, f"must be one of {', '.join(choices)}; got {value!r}")


@cache
def _target_validator(handler_type: str) -> Draft202012Validator | None:
    try:
        schema = handlers.target_schema(handler_type)
    except FileNotFoundError:
        return None  # Limitation: no schema file yet, so nothing to require or default.
    return Draft202012Validator(schema)


def check_target(where: str, handler_type: str, target: dict[str, Any]) -> dict[str, Any]:
    """Fill the handler's defaults in, as the real server does, then check the result."""
    validator = _target_validator(handler_type)
    if validator is None:
        return target
    defaults = handlers.target_defaults(handler_type)
    completed = {**target, **{k: v for k, v in defaults.items() if k not in target}}
    errors = sorted(validator.iter_errors(completed), key=lambda e: e.path)
    if errors:
        error = errors[0]
        path = ".".join(["target_properties", *map(str, error.absolute_path)])
        raise _field_problem(where, path, f"is invalid for handler {handler_type}: {error.message}")
    return completed


def parse_add_spec(body: Any, dataview_id: int, where: str = "AddExportSpec") -> dict[str, Any]:
    """Check an AddExportSpec body and return it normalized (defaults filled in)."""
    if not isinstance(body, dict):
        raise bad_request(f"{where}: the request body must be a JSON object")
    _check_shape(body, where)
    if body["DATAVIEW_ID"] != dataview_id:
        raise _field_problem(
            where,
            "DATAVIEW_ID",
            f"is {body['DATAVIEW_ID']} but the URL names dataview {dataview_id}",
        )
    if body.get("sequence") is not None and body["sequence"] < 1:
        raise _field_problem(where, "sequence", "must be 1 or more (1 is the first position)")
    if body.get("end_of_pipeline") is False and body.get("sequence") is None:
        # The SDK's AddExportSpec refuses this too: a step inside the pipeline needs a place.
        raise _field_problem(where, "sequence", "is required when end_of_pipeline is false")
    handler_type = body["handler_type"]
    return {
        "handler_type": handler_type,
        "trigger_type": body["trigger_type"],
        "target_properties": check_target(
            where, handler_type, dict(body.get("target_properties") or {})
        ),
        "additional_properties": dict(body.get("additional_properties") or {}),
        "condition": dict(body.get("condition") or {}),
        "end_of_pipeline": body.get("end_of_pipeline", True),
        "sequence": body.get("sequence"),
        "trigger_id": body.get("TRIGGER_ID"),
        "run_immediately": body["run_immediately"],
        "validate_only": body.get("validate_only", False),
    }


def parse_patches(body: Any, dataview_id: int) -> list[dict[str, Any]]:
    """Check an ExportPatch body; ``params`` values come back as normalized specs."""
    if not isinstance(body, dict) or not isinstance(body.get("patches"), list):
        raise bad_request("ExportPatch: the body must be an object with a 'patches' list")
    if not body["patches"]:
        raise bad_request("ExportPatch: 'patches' is empty; send at least one patch")
    return [_parse_patch(item, i, dataview_id) for i, item in enumerate(body["patches"])]


def _parse_patch(item: Any, index: int, dataview_id: int) -> dict[str, Any]:
    where = f"patches[{index}]"
    if not isinstance(item, dict):
        raise bad_request(f"{where}: each patch must be an object with op and path")
    _check_choice(where, "op", item.get("op"), _PATCH_OPS)
    _check_choice(where, "path", item.get("path"), PATCH_PATHS)
    if item["path"] != "params":
        return {"op": item["op"], "path": item["path"], "value": None}
    if item.get("value") is None:
        raise _field_problem(where, "value", "must be an AddExportSpec for path 'params'")
    spec = parse_add_spec(item["value"], dataview_id, where=f"{where}.value")
    return {"op": item["op"], "path": "params", "value": spec}
