"""What a Domo S3 export is to exportctl: a snapshot, judged by its latest run.

Pure facts, no I/O, for the seam adapter and the planner:

- ``identity``: what makes two requests the same export. Credentials are
  write-only (Domo uses them once and never shows them), so they are not part
  of it: a rotated key alone plans nothing.
- ``phase_of``: Domo's ``exportStatus`` as ``running`` / ``succeeded`` /
  ``failed``. ``none`` (queued) and ``exporting`` run; a status Domo does not
  document also counts as running, so a poll keeps going until its deadline
  instead of calling an unknown state a success or a failure.
- ``decide``: ``wait``, ``fresh`` or ``run`` for one entry given its
  DataSet's exports, with the sentence a plan shows.

Limitation: Domo's status objects name the bucket and the files but not the
query, so a fresh export to the same bucket and path counts even when the
manifest's query changed since; the docs say to change the path with it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from reconciler.model import thaw
from reconciler.providers.domo.entries import ExportRequest, S3ExportEntry
from reconciler.providers.domo.wire import DatasetExports, ExportRecord

__all__ = [
    "DOCUMENTED_STATUSES",
    "Decision",
    "ExportIdentity",
    "Phase",
    "decide",
    "format_age",
    "identity",
    "phase_of",
]

Phase = Literal["running", "succeeded", "failed"]
DOCUMENTED_STATUSES = frozenset({"none", "exporting", "success", "error"})
_PHASES: dict[str, Phase] = {"success": "succeeded", "error": "failed"}
_UNCHANGED_NOTE = (
    "If the DataSet's data has not changed since its last export, Domo answers "
    "with that previous export and writes no new file."
)


@dataclass(frozen=True)
class ExportIdentity:
    """The normalized request without credentials; equal identities are one export."""

    dataset_id: str
    bucket: str
    path: str
    region: str
    query: str | None  # canonical JSON of the wire query, or None for the whole DataSet
    include_bom: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset_id": self.dataset_id,
            "bucket": self.bucket,
            "path": self.path,
            "region": self.region,
            "query": None if self.query is None else json.loads(self.query),
            "include_bom": self.include_bom,
        }

    @property
    def digest(self) -> str:
        """A stable hex digest of the identity, for plan files and messages."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def identity(request: ExportRequest) -> ExportIdentity:
    query = None
    if request.query is not None:
        query = json.dumps(thaw(request.query), sort_keys=True, separators=(",", ":"))
    return ExportIdentity(
        dataset_id=request.dataset_id,
        bucket=request.bucket,
        path=request.path,
        region=request.region,
        query=query,
        include_bom=request.include_bom,
    )


def phase_of(status: str) -> Phase:
    return _PHASES.get(status.strip().lower(), "running")


@dataclass(frozen=True)
class Decision:
    """What a plan should do for one entry, why, and which export that rests on."""

    action: Literal["wait", "fresh", "run"]
    reason: str
    export_id: str | None = None


def decide(entry: S3ExportEntry, exports: DatasetExports) -> Decision:
    """``wait`` while the DataSet exports, ``fresh`` when an export is young enough, else ``run``.

    Domo runs one export per DataSet at a time, so any running export makes
    this entry wait, whatever its destination. Ages are measured by the
    server's clock (``exports.server_time``).
    """
    request = entry.request
    if exports.dataset_id != request.dataset_id:
        raise ValueError(
            f"exports of DataSet {exports.dataset_id} cannot decide entry {entry.key!r} "
            f"of DataSet {request.dataset_id}"
        )
    now = exports.server_time
    running = [r for r in exports.records if phase_of(r.status) == "running"]
    if running:
        return _wait(request, running[-1], now)
    done = exports.to_destination(request.bucket, request.path)
    good = [r for r in done if phase_of(r.status) == "succeeded" and r.when is not None]
    latest = good[-1] if good else None
    if latest is not None and latest.when is not None:
        age = _age(now, latest.when)
        if age <= entry.max_age:
            rows = f", {latest.rows:,} rows" if latest.rows is not None else ""
            return Decision(
                "fresh",
                f"export {latest.export_id} to {request.destination} finished "
                f"{format_age(age)} ago, within max_age {format_age(entry.max_age)}{rows}.",
                latest.export_id,
            )
        why = (
            f"the latest export to {request.destination} finished {format_age(age)} ago, "
            f"older than max_age {format_age(entry.max_age)}"
        )
    else:
        why = f"no successful export to {request.destination} yet"
    failure = _last_failure(exports, request)
    return Decision("run", f"{why}{failure}. {_UNCHANGED_NOTE}")


def _wait(request: ExportRequest, record: ExportRecord, now: datetime) -> Decision:
    started = f", started {format_age(_age(now, record.started))} ago" if record.started else ""
    status = record.status or "no status"
    if record.status.strip().lower() not in DOCUMENTED_STATUSES:
        status = f"{status!r}, a status Domo does not document, taken as still running"
    ours = record.destination == (request.bucket, request.path)
    where = f" to {request.destination}" if ours else ""
    return Decision(
        "wait",
        f"export {record.export_id}{where} of DataSet {request.dataset_id} is running "
        f"({status}{started}). Domo runs one export per DataSet at a time: this one "
        "waits for it to finish.",
        record.export_id,
    )


def _last_failure(exports: DatasetExports, request: ExportRequest) -> str:
    """A note when the DataSet's latest export failed and may have been this entry's."""
    latest = exports.latest()
    if latest is None or phase_of(latest.status) != "failed":
        return ""
    bucket, _ = latest.destination
    if bucket not in (None, request.bucket):
        return ""
    code = f"{latest.error_code}: " if latest.error_code else ""
    detail = f"{code}{latest.message or 'no message given'}"
    return f"; the DataSet's last export ({latest.export_id}) failed ({detail})"


def _age(now: datetime, then: datetime) -> timedelta:
    """How long ago ``then`` was; never negative (a clock skew is not a future export)."""
    return max(now - then, timedelta(0))


def format_age(age: timedelta) -> str:
    """A duration as a plan shows it, in its two largest units: ``2h 5m``, ``3d``, ``45s``."""
    seconds = int(age.total_seconds())
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    first = next((i for i, (_, size) in enumerate(units) if seconds >= size), len(units) - 1)
    name, size = units[first]
    text = f"{seconds // size}{name}"
    if first + 1 < len(units):
        next_name, next_size = units[first + 1]
        rest = seconds % size // next_size
        text += f" {rest}{next_name}" if rest else ""
    return text
