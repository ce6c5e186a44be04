"""The server's checks of a request body, as its serializers and services make them.

Written after the Django project's own code paths, step by step, and kept
apart from the client's prediction of them (``datatools.filters`` and
``datatools.templates``) on purpose: the tests compare the two, so one
cannot silently follow the other's mistakes.

Two kinds of failure, as in Django: ``Invalid`` is a field-level validation
error (or any crash on the way), which the views can only answer with their
generic 400 text; ``PlainInvalid`` is a non-field ``ValidationError`` whose
text does reach the client, as the repr of a Python list.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "FORMATS",
    "Invalid",
    "PlainInvalid",
    "check_job_create",
    "check_template_create",
    "check_template_update",
    "job_service_filters",
]

FORMATS = ("csv", "json", "parquet", "excel")
_JOB_FILTER_KEYS = ("columns", "where_conditions", "limit", "offset", "order_by", "group_by")
NAME_LIMIT = 255


class Invalid(Exception):
    """Refused with the view's generic message (the details never reach the client)."""


class PlainInvalid(Exception):
    """Refused with this text shown, Django-style: ``['<message>']``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.shown = str([message])


def _template_filters(filters: Any) -> dict[str, Any]:
    """The serializer's ``validate_filters``: rebuild, dropping unknown keys and empty values."""
    if not isinstance(filters, dict):
        raise Invalid("filters must be an object")
    rebuilt: dict[str, Any] = {}
    for key, value in filters.items():
        if not value:
            continue
        if key in ("columns", "where_conditions"):
            if not isinstance(value, list):
                raise Invalid(f"{key} must be a list")
            rebuilt[key] = value
        elif key == "limit":
            rebuilt[key] = _positive_int(value)
        elif key in ("order_by", "group_by"):
            if not isinstance(value, str):
                raise Invalid(f"{key} must be a string")
            rebuilt[key] = value
        elif key == "date_range":
            if not isinstance(value, dict) or "start" not in value or "end" not in value:
                raise Invalid("date_range must have start and end")
            rebuilt[key] = value
    return rebuilt


def _positive_int(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise Invalid("limit must be a valid integer") from None
    if number <= 0:
        raise Invalid("limit must be a positive integer")
    return number


def _format(value: Any) -> str:
    lowered = value.lower() if isinstance(value, str) else ""
    if lowered not in FORMATS:
        raise Invalid("invalid format")
    return lowered


def _name(value: Any, taken: Callable[[str], bool]) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(name) <= NAME_LIMIT or taken(name):
        raise Invalid("bad or duplicate name")
    return name


def _description(data: Mapping[str, Any]) -> str:
    value = data.get("description", "")
    if not isinstance(value, str):  # the server calls .strip() on it and crashes
        raise Invalid("description must be a string")
    return value.strip()


def _configuration(configuration: dict[str, Any]) -> dict[str, Any]:
    """Format lower-cased and filters rebuilt; every other key kept as sent."""
    checked = dict(configuration)
    checked["format"] = _format(checked["format"])
    if "filters" in checked:
        checked["filters"] = _template_filters(checked["filters"])
    return checked


def check_template_create(
    data: Any, *, superuser: bool, taken: Callable[[str], bool]
) -> dict[str, Any]:
    """The fields of a new template, or ``Invalid``; ``taken`` says a name is the user's already."""
    if not isinstance(data, dict) or not data.get("name") or not data.get("configuration"):
        raise Invalid("name and configuration are required")
    configuration = data["configuration"]
    if not isinstance(configuration, dict) or "format" not in configuration:
        raise Invalid("configuration must be an object with a format")
    template_type = data.get("template_type", "user")
    if template_type not in ("user", "system", "shared") or (
        template_type == "system" and not superuser
    ):
        raise Invalid("bad template_type")
    is_active = data.get("is_active", True)
    if not isinstance(is_active, bool):
        raise Invalid("is_active must be a boolean")
    return {
        "name": _name(data["name"], taken),
        "description": _description(data),
        "configuration": _configuration(configuration),
        "template_type": template_type,
        "is_active": is_active,
    }


def check_template_update(
    data: Any, stored: Mapping[str, Any], *, taken: Callable[[str], bool]
) -> dict[str, Any]:
    """The fields an update changes. ``configuration`` merges one level deep into the stored one.

    ``template_type`` and any other field are ignored, as the server ignores them.
    """
    if not isinstance(data, dict):
        raise Invalid("the body must be an object")
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = _name(data["name"], lambda n: n != stored["name"] and taken(n))
    if "description" in data:
        changes["description"] = _description(data)
    if "configuration" in data:
        if not isinstance(data["configuration"], dict):
            raise Invalid("configuration must be an object")
        changes["configuration"] = _configuration(
            {**stored["configuration"], **data["configuration"]}
        )
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            raise Invalid("is_active must be a boolean")
        changes["is_active"] = data["is_active"]
    return changes


def check_job_create(data: Any) -> tuple[str, str, Any]:
    """(datasource id, format, filters) of a new job; the datasource is not looked up yet.

    A datasource that is not a UUID is the one refusal whose text the client sees.
    """
    if not isinstance(data, dict) or not data.get("datasource") or not data.get("format"):
        raise Invalid("datasource and format are required")
    datasource = data["datasource"]
    if not isinstance(datasource, str):
        raise Invalid("invalid datasource format")
    try:
        datasource_id = str(uuid.UUID(datasource))
    except ValueError:
        raise PlainInvalid(f"“{datasource}” is not a valid UUID.") from None
    filters = data.get("filters", {})
    if filters and not isinstance(filters, dict):
        raise Invalid("filters must be an object")
    return datasource_id, _format(data["format"]), filters or {}


def job_service_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The export service's whitelist: known keys kept with any value, others dropped."""
    return {key: value for key, value in filters.items() if key in _JOB_FILTER_KEYS}
