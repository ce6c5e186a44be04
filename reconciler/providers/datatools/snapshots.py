"""Export jobs as snapshots: identity, status, freshness and pruning, no I/O.

A manifest's snapshot entry asks for "a successful export of this request,
no older than ``max_age``". Jobs are immutable runs without a marker field,
so a job *is* an entry's when its normalized request (datasource, format,
filters) equals the entry's (``SnapshotRequest``). From the listed jobs and
the server's time, ``decide`` says ``run``, ``fresh`` or ``wait`` and why,
and ``prune`` which older runs ``keep`` lets go.

Facts of the server this encodes:

- statuses ``pending``/``processing`` run; ``completed`` succeeded;
  ``failed`` and ``cancelled`` did not; ``expired`` (set by a cleanup routine
  nothing schedules) completed but its file is gone;
- a completed job's file can be downloaded until ``expires_at`` (creation
  plus 7 days by default), so a job past it is never fresh;
- a job's age counts from ``created_at``, on the server's clock: the data is
  read after that, so the age is never understated;
- the server-side retry resets a job to ``pending`` and never runs it, so a
  job still running after ``max_age`` is treated as stuck, not waited for;
- a job cancelled while ``processing`` may still end ``completed`` (the
  worker does not look), so a cancelled job is history, not a guarantee.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from reconciler.model import FrozenDict, freeze, thaw
from reconciler.providers.datatools.filters import (
    FilterNote,
    FilterRule,
    dropped_filters,
    kept_filters,
)
from reconciler.providers.datatools.wire import ExportJob

__all__ = [
    "JobPhase",
    "PrunePlan",
    "Pruned",
    "SnapshotAction",
    "SnapshotDecision",
    "SnapshotRequest",
    "SnapshotSpec",
    "decide",
    "dropped_keys",
    "failure_reason",
    "format_age",
    "is_available",
    "parse_max_age",
    "phase",
    "prune",
    "request_of",
    "snapshot_request",
    "snapshot_spec",
    "worker_caveats",
]


class JobPhase(Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


_PHASES = {
    "pending": JobPhase.RUNNING,
    "processing": JobPhase.RUNNING,
    "completed": JobPhase.SUCCEEDED,
    "expired": JobPhase.SUCCEEDED,
    "failed": JobPhase.FAILED,
    "cancelled": JobPhase.FAILED,
}


class SnapshotAction(Enum):
    RUN = "run"  # no fresh snapshot and none coming: start a job
    FRESH = "fresh"  # a successful job within max_age exists: nothing to do
    WAIT = "wait"  # a job of this request is still running: let it finish


@dataclass(frozen=True)
class SnapshotRequest:
    """What a job is asked to export, normalized: its identity."""

    datasource: str
    format: str
    filters: FrozenDict

    def body(self) -> dict[str, Any]:
        """The job-create body for this request."""
        return {"datasource": self.datasource, "format": self.format, "filters": thaw(self.filters)}


@dataclass(frozen=True)
class SnapshotSpec:
    """A manifest snapshot entry: a request, how old it may be, what to keep and fetch."""

    key: str
    request: SnapshotRequest
    max_age: timedelta
    keep: int | None = None
    download: str | None = None


@dataclass(frozen=True)
class SnapshotDecision:
    """What a plan does for one snapshot entry, why, and the job it rests on."""

    action: SnapshotAction
    reason: str
    job: ExportJob | None = None


@dataclass(frozen=True)
class Pruned:
    """An older job of an entry that ``keep`` lets go, and why."""

    job: ExportJob
    reason: str


@dataclass(frozen=True)
class PrunePlan:
    """Jobs to delete, and running jobs to cancel (only when the user asked for that)."""

    delete: tuple[Pruned, ...] = ()
    cancel: tuple[Pruned, ...] = ()


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


def snapshot_spec(entry: Mapping[str, Any]) -> SnapshotSpec:
    """The spec of one schema-valid ``datatools.snapshots`` entry."""
    request = snapshot_request(entry["datasource"], entry["format"], entry.get("filters", {}))
    return SnapshotSpec(
        key=entry["key"],
        request=request,
        max_age=parse_max_age(entry["max_age"]),
        keep=entry.get("keep"),
        download=entry.get("download"),
    )


def request_of(job: ExportJob) -> SnapshotRequest:
    return snapshot_request(job.datasource_id, job.format, job.filters)


def _canonical_uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return text.strip()


def phase(status: str) -> JobPhase:
    """Where a job status stands. An unknown status counts as running.

    Waiting is the safe guess for a status a newer server may add: it starts
    no duplicate job, and a job that stays in it past ``max_age`` is run again.
    """
    return _PHASES.get(status, JobPhase.RUNNING)


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
    if phase(job.status) is not JobPhase.FAILED:
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


def format_age(age: timedelta) -> str:
    """A duration in the largest two units, e.g. ``2d 3h``, ``45m``, ``0s``."""
    seconds = max(int(age.total_seconds()), 0)
    shown = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            shown.append(f"{count}{unit}")
    return " ".join(shown[:2]) or "0s"


def _of_spec(spec: SnapshotSpec, jobs: Iterable[ExportJob]) -> list[ExportJob]:
    """The spec's jobs, newest first."""
    mine = [job for job in jobs if request_of(job) == spec.request]
    return sorted(mine, key=lambda job: job.created_at, reverse=True)


def decide(spec: SnapshotSpec, jobs: Iterable[ExportJob], now: datetime) -> SnapshotDecision:
    """``run``, ``fresh`` or ``wait`` for ``spec``, given the listed jobs and the server's time."""
    mine = _of_spec(spec, jobs)
    limit = format_age(spec.max_age)
    for job in mine:
        age = now - job.created_at
        if is_available(job, now) and age <= spec.max_age:
            why = f"job {job.id} completed, {format_age(age)} old (max_age {limit})"
            return SnapshotDecision(SnapshotAction.FRESH, why, job)
    for job in mine:
        age = now - job.created_at
        if phase(job.status) is JobPhase.RUNNING and age <= spec.max_age:
            why = f"job {job.id} is {job.status}, started {format_age(age)} ago"
            return SnapshotDecision(SnapshotAction.WAIT, why, job)
    return SnapshotDecision(SnapshotAction.RUN, _why_run(mine, now, spec.max_age))


def _why_run(mine: Sequence[ExportJob], now: datetime, max_age: timedelta) -> str:
    if not mine:
        return "no export job of this request exists"
    newest = mine[0]
    age, limit = format_age(now - newest.created_at), format_age(max_age)
    state = phase(newest.status)
    if state is JobPhase.FAILED:
        return f"the newest job {newest.id} failed: {failure_reason(newest)}"
    if state is JobPhase.RUNNING:
        return (
            f"job {newest.id} has been {newest.status} for {age}, longer than max_age "
            f"{limit}: it looks stuck (a server-side retry never runs a job again)"
        )
    if not is_available(newest, now):
        return f"the newest job {newest.id} completed, but its file has expired"
    return f"the newest job {newest.id} is {age} old, older than max_age {limit}"


def prune(
    spec: SnapshotSpec, jobs: Iterable[ExportJob], now: datetime, *, cancel_running: bool = False
) -> PrunePlan:
    """The spec's older jobs that may go.

    With ``keep: N``: completed jobs beyond the newest N, and failed or
    cancelled ones older than the newest completed one (a failure after it
    stays, so drift can show it). With ``cancel_running``: running jobs older
    than ``max_age``, which ``decide`` no longer waits for. Jobs of other
    requests are never touched.
    """
    mine = _of_spec(spec, jobs)
    delete: list[Pruned] = []
    if spec.keep is not None:
        succeeded = [job for job in mine if phase(job.status) is JobPhase.SUCCEEDED]
        for job in succeeded[spec.keep :]:
            delete.append(Pruned(job, f"older than the newest {spec.keep} completed job(s)"))
        if succeeded:
            newest = succeeded[0]
            for job in mine:
                if phase(job.status) is JobPhase.FAILED and job.created_at < newest.created_at:
                    delete.append(Pruned(job, f"{job.status} before job {newest.id} completed"))
    cancel = []
    if cancel_running:
        for job in mine:
            age = now - job.created_at
            if phase(job.status) is JobPhase.RUNNING and age > spec.max_age:
                why = f"{job.status} for {format_age(age)}, longer than max_age"
                cancel.append(Pruned(job, why))
    return PrunePlan(tuple(delete), tuple(cancel))


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
