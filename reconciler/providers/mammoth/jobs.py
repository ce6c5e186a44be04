"""How Mammoth's job records read: the one place that parses a job.

A 202 answer carries a job (``{"job": {"id", "status", "response"}}``); polling
``/jobs?job_ids=`` returns more of them. When a job ends, its ``response``
names the export it made (``trigger_id``) or says why it failed. The reason
is read where Mammoth's current SDK reads it (``jobs._failure_message``):
``response.error``, then ``response.response.detail`` or ``.error``, then
``response.reason`` (failed futures); then the older ``failure_reason`` and a
top-level ``detail`` or ``message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.providers.base import JobState

__all__ = [
    "FINAL_JOB_STATUSES",
    "failure_reason",
    "int_or_none",
    "job_state",
    "text_id",
    "trigger_id_of",
]

_SUCCEEDED = frozenset({"success"})
_FAILED = frozenset({"failure", "error"})
FINAL_JOB_STATUSES = _SUCCEEDED | _FAILED
_REASON_PATHS: tuple[tuple[str, ...], ...] = (
    ("error",),
    ("response", "detail"),
    ("response", "error"),
    ("response", "message"),
    ("reason",),
    ("failure_reason",),
    ("detail",),
    ("message",),
)


def trigger_id_of(job: Mapping[str, Any]) -> int | None:
    """The export a job made or changed, as its ``response.trigger_id`` names it."""
    response = job.get("response")
    return int_or_none(response.get("trigger_id")) if isinstance(response, Mapping) else None


def job_state(record: Mapping[str, Any]) -> JobState:
    """A job record as the core reads it; a failed job always has a reason."""
    status = str(record.get("status"))
    response = record.get("response")
    response = response if isinstance(response, Mapping) else {}
    failure = failure_reason(response) if status in _FAILED else None
    return JobState(
        job_id=str(int(record["id"])),
        status=status,
        finished=status in FINAL_JOB_STATUSES,
        failure=failure,
        resource_id=text_id(trigger_id_of(record)),
    )


def failure_reason(response: Mapping[str, Any]) -> str:
    """Why a failed job failed, from the first place a server puts it."""
    for path in _REASON_PATHS:
        value: Any = response
        for name in path:
            value = value.get(name) if isinstance(value, Mapping) else None
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
            return str(value)
    return "no detail given"


def int_or_none(value: Any) -> int | None:
    """``value`` when it is a JSON integer (not a bool), else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text_id(number: int | None) -> str | None:
    """A Mammoth id as the core carries ids: as text."""
    return None if number is None else str(number)
