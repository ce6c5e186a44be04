"""The API's answers, parsed: the envelope, templates, export jobs, job pages.

Every answer is ``{"success": true, "message": ..., "data": ...}``; the parsers
here take ``data`` apart into frozen records and say what is wrong when an
answer does not have the documented shape (``WireError``), which the client
turns into an ``ApiError`` naming the request. Bodies arrive frozen
(``model.loads_frozen``), so ``configuration`` and ``filters`` are
``FrozenDict`` all the way down and the records can be compared and hashed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.model import FrozenDict

__all__ = [
    "ExportJob",
    "JobPage",
    "Template",
    "WireError",
    "envelope_data",
    "parse_job",
    "parse_job_page",
    "parse_template",
    "parse_templates",
    "parse_timestamp",
]


class WireError(ValueError):
    """An answer of the wrong shape; the text says which part, for the user."""


@dataclass(frozen=True)
class Template:
    """An export template as the server shows it (its owner is a username)."""

    id: str
    name: str
    description: str
    user: str
    template_type: str
    is_active: bool
    configuration: FrozenDict
    created_at: datetime | None
    updated_at: datetime | None

    # What the core reads of a listed resource (``model.ListedResource``).
    @property
    def resource_id(self) -> str:
        return self.id

    @property
    def type(self) -> str:
        return self.template_type

    @property
    def deleted(self) -> bool:
        return not self.is_active


@dataclass(frozen=True)
class ExportJob:
    """One export job. ``filters`` are as stored; times are the server's, in UTC."""

    id: str
    user: str
    datasource_id: str
    datasource_name: str
    status: str
    format: str
    filters: FrozenDict
    progress: int
    error_message: str
    file_size: int | None
    row_count: int | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class JobPage:
    """One page of the job listing, newest first."""

    jobs: tuple[ExportJob, ...]
    current_page: int
    has_next: bool


def envelope_data(body: Any) -> Any:
    """``data`` of a success envelope (``None`` when the answer has none)."""
    if not isinstance(body, Mapping) or body.get("success") is not True:
        raise WireError('no {"success": true, ...} envelope in the answer')
    return body.get("data")


def parse_templates(data: Any) -> list[Template]:
    templates = _field(data, "templates", tuple, "the template list")
    return [parse_template(item) for item in templates]


def parse_template(data: Any) -> Template:
    what = "a template"
    return Template(
        id=_field(data, "id", str, what),
        name=_field(data, "name", str, what),
        description=_field(data, "description", str, what),
        user=_field(data, "user", str, what),
        template_type=_field(data, "template_type", str, what),
        is_active=_field(data, "is_active", bool, what),
        configuration=_field(data, "configuration", FrozenDict, what),
        created_at=_time(data, "created_at", what, optional=True),
        updated_at=_time(data, "updated_at", what, optional=True),
    )


def parse_job_page(data: Any) -> JobPage:
    jobs = _field(data, "export_jobs", tuple, "the job list")
    pagination = _field(data, "pagination", FrozenDict, "the job list")
    return JobPage(
        jobs=tuple(parse_job(item) for item in jobs),
        current_page=_field(pagination, "current_page", int, "the pagination"),
        has_next=_field(pagination, "has_next", bool, "the pagination"),
    )


def parse_job(data: Any) -> ExportJob:
    what = "an export job"
    datasource = _field(data, "datasource", FrozenDict, what)
    created_at = _time(data, "created_at", what, optional=False)
    assert created_at is not None
    return ExportJob(
        id=_field(data, "id", str, what),
        user=_field(data, "user", str, what),
        datasource_id=_field(datasource, "id", str, "a job's datasource"),
        datasource_name=_field(datasource, "name", str, "a job's datasource"),
        status=_field(data, "status", str, what),
        format=_field(data, "format", str, what),
        filters=_field(data, "filters", FrozenDict, what),
        progress=_field(data, "progress", int, what),
        error_message=_field(data, "error_message", str, what),
        file_size=_optional_int(data, "file_size", what),
        row_count=_optional_int(data, "row_count", what),
        created_at=created_at,
        started_at=_time(data, "started_at", what, optional=True),
        completed_at=_time(data, "completed_at", what, optional=True),
        expires_at=_time(data, "expires_at", what, optional=True),
    )


def parse_timestamp(text: str) -> datetime:
    """A timestamp as the server writes them (``isoformat()`` in UTC, ``+00:00``)."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return when


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "a boolean"}


def _field(data: Any, name: str, kind: type[Any], what: str) -> Any:
    if not isinstance(data, Mapping):
        raise WireError(f"{what} is not an object")
    value = data.get(name)
    wrong_bool = kind is int and isinstance(value, bool)
    if not isinstance(value, kind) or wrong_bool:
        expected = _TYPE_NAMES.get(kind, "an object" if kind is FrozenDict else "a list")
        raise WireError(f"{name!r} of {what} is not {expected}")
    return value


def _optional_int(data: Mapping[str, Any], name: str, what: str) -> int | None:
    if data.get(name) is None:
        return None
    value: int = _field(data, name, int, what)
    return value


def _time(data: Any, name: str, what: str, *, optional: bool) -> datetime | None:
    if optional and isinstance(data, Mapping) and data.get(name) is None:
        return None
    text = _field(data, name, str, what)
    try:
        return parse_timestamp(text)
    except ValueError:
        raise WireError(f"{name!r} of {what} is not an ISO 8601 time with a zone") from None
