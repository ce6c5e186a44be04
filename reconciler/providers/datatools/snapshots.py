"""Export jobs as snapshots: identity and status in the core's words, no I/O.

A manifest's snapshot entry asks for "a successful export of this request,
no older than ``max_age``". Jobs are immutable runs without a marker field,
so a job *is* an entry's when its normalized request (datasource, format,
filters) equals the entry's (``SnapshotRequest.identity``). Whether to run,
wait or call a job fresh, and which runs ``keep`` lets go, is the core
snapshot planner's decision (``reconciler.snapshot_planner``); this module
only says what a job is: its request, its ``RunState``, its age and why it
failed.

Facts of the server this encodes:

- statuses ``pending``/``processing`` run; ``completed`` succeeded;
  ``failed`` and ``cancelled`` did not; ``expired`` (set by a cleanup routine
  nothing schedules) completed but its file is gone;
- a completed job's file can be downloaded until ``expires_at`` (creation
  plus 7 days by default), so a job past it is never fresh;
- a job's age counts from ``created_at``, on the server's clock: the data is
  read after that, so the age is never understated;
- the server-side retry resets a job to ``pending`` and never runs it, so it
  is never used: a failed job is replaced by a new one;
- a job cancelled while ``processing`` may still end ``completed`` (the
  worker does not look), so a cancelled job is history, not a guarantee.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reconciler.model import FrozenDict, LiveRun, RunState, freeze, thaw
from reconciler.providers.datatools.filters import (
    FilterNote,
    FilterRule,
    dropped_filters,
    kept_filters,
)
from reconciler.providers.datatools.wire import ExportJob

__all__ = [
    "SnapshotRequest",
    "dropped_keys",
    "failure_reason",
    "is_available",
    "live_run",
    "parse_max_age",
    "request_of",
    "run_state",
    "snapshot_request",
    "worker_caveats",
]

_STATES = {
    "pending": RunState.RUNNING,
    "processing": RunState.RUNNING,
    "completed": RunState.SUCCEEDED,
    "expired": RunState.EXPIRED,
    "failed": RunState.FAILED,
    "cancelled": RunState.FAILED,
}


@dataclass(frozen=True)
class SnapshotRequest:
    """What a job is asked to export, normalized: its identity."""

    datasource: str
    format: str
    filters: FrozenDict

    def body(self) -> dict[str, Any]:
        """The job-create body for this request."""
        return {"datasource": self.datasource, "format": self.format, "filters": thaw(self.filters)}

    def identity(self) -> FrozenDict:
        """The request as the core compares it (``SnapshotSpec.request``, ``LiveRun.request``)."""
        return FrozenDict(datasource=self.datasource, format=self.format, filters=self.filters)

    @classmethod
    def of(cls, identity: Mapping[str, Any]) -> SnapshotRequest:
        """The request back from its ``identity()`` (what a plan carries)."""
        return cls(identity["datasource"], identity["format"], freeze(identity["filters"]))


def snapshot_request(datasource: str, format: str, filters: Mapping[str, Any]) -> SnapshotRequest:
    """A request in the one form both a manifest entry and a listed job reduce to.

    The server keeps only its whitelisted filter keys (``FilterRule.JOB``) and
    its worker skips empty values, so both are dropped here: two requests that
    differ only there produce the same export.
    """
    kept = kept_filters(filters, FilterRule.JOB)
    return SnapshotRequest(
        datasource=_canonical_uuid(datasource),
        format=format.lower(),
        filters=freeze({name: value for name, value in kept.items() if value}),
    )


def request_of(job: ExportJob) -> SnapshotRequest:
    return snapshot_request(job.datasource_id, job.format, job.filters)


def _canonical_uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return text.strip()


def run_state(job: ExportJob, now: datetime) -> RunState:
    """Where a job stands in the core's words. An unknown status counts as running.

    Waiting is the safe guess for a status a newer server may add: it starts
    no duplicate job. A completed job whose file is past ``expires_at`` is
    ``EXPIRED``: it can no longer be downloaded, so it is never fresh.
    """
    state = _STATES.get(job.status, RunState.RUNNING)
    if state is RunState.SUCCEEDED and not is_available(job, now):
        return RunState.EXPIRED
    return state


def live_run(job: ExportJob, now: datetime) -> LiveRun:
    """A listed job as the core's snapshot planner reads it, aged by the server's clock."""
    return LiveRun(
        run_id=job.id,
        request=request_of(job).identity(),
        state=run_state(job, now),
        age_s=max((now - job.created_at).total_seconds(), 0.0),
        status=job.status,
        failure=failure_reason(job),
    )


def is_available(job: ExportJob, now: datetime) -> bool:
    """Whether the job's file can still be downloaded: completed and not expired."""
    return job.status == "completed" and (job.expires_at is None or now < job.expires_at)


_HINTS = (
    (
        "is not a valid UUID",
        "a known bug of the server (it looks the datasource up by name instead of id); "
        "every job fails this way until the server is fixed",
    ),
    ("No data available for export", "the datasource has no rows"),
)


def failure_reason(job: ExportJob) -> str | None:
    """Why a job did not succeed, with what is known about the message; ``None`` otherwise."""
    if _STATES.get(job.status) is not RunState.FAILED:
        return None
    if job.status == "cancelled":
        return "the job was cancelled"
    message = job.error_message or "no detail given"
    for text, hint in _HINTS:
        if text in message:
            return f"{message} ({hint})"
    return message


_DURATION = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LONGEST = timedelta.max.days * 86400  # whole days: the float of the seconds rounds up


def parse_max_age(text: str) -> timedelta:
    """A duration like ``30m``, ``6h``, ``1d`` or ``1d12h`` (units s, m, h, d, w)."""
    compact = text.strip()
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(
            f"max_age {text!r} is not a duration like 30m, 6h or 1d (units s, m, h, d, w)"
        )
    seconds = sum(int(number) * _UNITS[unit] for number, unit in parts)
    if seconds == 0:
        raise ValueError(f"max_age {text!r} must be longer than zero")
    if seconds > _LONGEST:
        raise ValueError(f"max_age {text!r} is longer than any clock can count")
    return timedelta(seconds=seconds)


def dropped_keys(filters: Mapping[str, Any]) -> list[FilterNote]:
    """The filter keys the server would drop from a job request, for ``validate``."""
    dropped = dropped_filters(filters, FilterRule.JOB)
    return [FilterNote(f"filters.{note.key}", note.reason) for note in dropped]


def worker_caveats(filters: Mapping[str, Any]) -> list[FilterNote]:
    """Kept filters that the server's worker uses differently than a user may expect."""
    caveats = []
    where = filters.get("where_conditions")
    if isinstance(where, list | tuple) and where:
        caveats.append(
            FilterNote(
                "filters.where_conditions",
                "the server stores a list but filters only by an object {column: value}; "
                "this list is ignored and every row is exported",
            )
        )
    if filters.get("group_by"):
        caveats.append(FilterNote("filters.group_by", "stored, but the worker ignores it"))
    if filters.get("limit") and any(filters.get(k) for k in ("offset", "where_conditions")):
        caveats.append(
            FilterNote(
                "filters.limit",
                "the worker takes the first rows before offset and where_conditions "
                "apply, so fewer rows may come out than limit says",
            )
        )
    return caveats
