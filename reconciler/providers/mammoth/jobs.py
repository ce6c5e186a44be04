"""How Mammoth's job records read: the one place that parses a job.

A 202 answer carries a job (``{"job": {"id", "status", "response"}}``); polling
``/jobs?job_ids=`` returns more of them. When a job ends, its ``response``
names the export it made (``trigger_id``) or says why it failed: Mammoth's
own SDK reads ``failure_reason``, and error bodies stored as a job's response
use ``detail``, ``error`` or ``message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.providers.base import JobState

__all__ = ["FINAL_JOB_STATUSES", "int_or_none", "job_state", "text_id", "trigger_id_of"]

_SUCCEEDED = frozenset({"success"})
_FAILED = frozenset({"failure", "error"})
FINAL_JOB_STATUSES = _SUCCEEDED | _FAILED
_REASON_FIELDS = ("failure_reason", "detail", "error", "message")


def trigger_id_of(job: Mapping[str, Any]) -> int | None:
    """The export a job made or changed, as its ``response.trigger_id`` names it."""
    response = job.get("response")
    return int_or_none(response.get("trigger_id")) if isinstance(response, Mapping) else None


def job_state(record: Mapping[str, Any]) -> JobState:
    """A job record as the core reads it; a failed job always has a reason."""
    status = str(record.get("status"))
    response = record.get("response")
    response = response if isinstance(response, Mapping) else {}
    failure = None
    if status in _FAILED:
        failure = next(
            (str(response[name]) for name in _REASON_FIELDS if response.get(name)),
            "no detail given",
        )
    return JobState(
        job_id=str(int(record["id"])),
        status=status,
        finished=status in FINAL_JOB_STATUSES,
        failure=failure,
        resource_id=text_id(trigger_id_of(record)),
    )


def int_or_none(value: Any) -> int | None:
    """``value`` when it is a JSON integer (not a bool), else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text_id(number: int | None) -> str | None:
    """A Mammoth id as the core carries ids: as text."""
    return None if number is None else str(number)
