"""What a Domo S3 export is to exportctl: a snapshot, its run an export of a DataSet.

Pure facts, no I/O, for the provider and the manifest section. The core's
snapshot planner decides ``wait`` / ``fresh`` / ``run``; what it needs from
Domo is said here:

- ``request_of``: a request's identity, the ``SnapshotSpec.request``. The
  credentials are not in it (Domo uses them once and never shows them): a
  rotated key alone plans nothing.
- ``phase_of`` / ``run_state``: Domo's ``exportStatus`` in the core's words.
  ``none`` (queued) and ``exporting`` run; a status Domo does not document
  also counts as running, so a poll keeps going until its deadline instead
  of calling an unknown state a success or a failure.
- ``live_run``: one status object as a ``LiveRun``, aged by Domo's clock and
  ``exclusive``, since Domo runs one export per DataSet at a time: any
  running export makes every entry of its DataSet wait.

Domo's status objects name the bucket and the written files, not the query,
region or BOM, so a listed export is matched to the manifest entry that
exports to its bucket and path (the manifest allows one per DataSet) and
carries that entry's request. Limitation: an export stays fresh when only
the manifest's query changed since; the docs say to change the path with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from reconciler.model import FrozenDict, LiveRun, RunState, freeze, thaw
from reconciler.providers.domo.entries import AwsCredentials, ExportRequest
from reconciler.providers.domo.wire import ExportRecord

__all__ = [
    "DOCUMENTED_STATUSES",
    "KIND",
    "PROVIDER",
    "RESOURCE_NOUN",
    "SCOPE_NOUN",
    "SNAPSHOT_TYPE",
    "UNCHANGED_NOTE",
    "Phase",
    "export_request",
    "failure_of",
    "listed_request",
    "live_run",
    "outcome_note",
    "phase_of",
    "request_of",
    "run_state",
]

PROVIDER = "domo"
KIND = "s3_export"
SCOPE_NOUN = "Domo DataSet"
RESOURCE_NOUN = "export"
SNAPSHOT_TYPE = "s3_export"
UNCHANGED_NOTE = (
    "If the DataSet's data has not changed since its last export, Domo answers "
    "with that previous export and writes no new file."
)

Phase = Literal["running", "succeeded", "failed"]
DOCUMENTED_STATUSES = frozenset({"none", "exporting", "success", "error"})
_PHASES: dict[str, Phase] = {"success": "succeeded", "error": "failed"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATES: dict[Phase, RunState] = {
    "running": RunState.RUNNING,
    "succeeded": RunState.SUCCEEDED,
    "failed": RunState.FAILED,
}


def phase_of(status: str) -> Phase:
    return _PHASES.get(status.strip().lower(), "running")


def run_state(status: str) -> RunState:
    return _STATES[phase_of(status)]


def request_of(request: ExportRequest) -> FrozenDict:
    """The identity of a request, as plans show it and listed exports are matched.

    Only what Domo is sent as the export's shape: never the credentials. The
    query is in Domo's wire shape (``entries.normalize_query``), so two
    spellings of one column are one request.
    """
    identity: dict[str, object] = {
        "bucket": request.bucket,
        "path": request.path,
        "region": request.region,
        "include_bom": request.include_bom,
    }
    if request.query is not None:
        identity["query"] = thaw(request.query)
    frozen: FrozenDict = freeze(identity)
    return frozen


def export_request(dataset_id: str, request: FrozenDict, write_only: FrozenDict) -> ExportRequest:
    """The request to send again, from a snapshot's identity and its write-only credentials."""
    query = request.get("query")
    return ExportRequest(
        dataset_id=dataset_id,
        bucket=request["bucket"],
        path=request["path"],
        region=request["region"],
        query=query if isinstance(query, FrozenDict) else None,
        include_bom=bool(request["include_bom"]),
        credentials=AwsCredentials(**write_only),
    )


def listed_request(record: ExportRecord, wanted: Sequence[FrozenDict]) -> FrozenDict:
    """The request a listed export answers, among the manifest's ``wanted`` ones.

    A finished export's files tell its bucket and path; a running or failed
    one has no files, only its bucket, and is this DataSet's entry to that
    bucket when there is exactly one. Anything else keeps what Domo said, so
    it matches no entry (it still holds the DataSet while it runs).
    """
    bucket, path = record.destination
    if path is not None:
        matches = [w for w in wanted if (w["bucket"], w["path"]) == (bucket, path)]
    else:
        matches = [w for w in wanted if w["bucket"] == bucket]
    if len(matches) == 1:
        return matches[0]
    said = {"bucket": bucket, "path": path}
    frozen: FrozenDict = freeze({k: v for k, v in said.items() if v is not None})
    return frozen


def failure_of(record: ExportRecord) -> str | None:
    """Domo's reason of a failed export: ``errorCode: message``; ``None`` otherwise."""
    if phase_of(record.status) != "failed":
        return None
    code = f"{record.error_code}: " if record.error_code else ""
    return f"{code}{record.message or 'Domo gave no message'}"


def live_run(record: ExportRecord, now: datetime, wanted: Sequence[FrozenDict]) -> LiveRun:
    """One export as the planner reads it; ``now`` is Domo's clock (its ``Date``).

    A finished export is aged from its finish, a running one from its start;
    a success without any time is as old as the epoch (never fresh), and a
    server clock behind an export is no negative age.
    """
    state = run_state(record.status)
    when = record.started if state is RunState.RUNNING else record.when
    if when is None:  # Domo's "not yet" (0): a running one just began, a done one is ancient
        when = now if state is RunState.RUNNING else _EPOCH
    age = max((now - when).total_seconds(), 0.0)
    status = record.status or "no status"
    if record.status.strip().lower() not in DOCUMENTED_STATUSES:
        status = f"{status!r} (a status Domo does not document, taken as still running)"
    return LiveRun(
        run_id=record.export_id,
        request=listed_request(record, wanted),
        state=state,
        age_s=age,
        status=status,
        failure=failure_of(record),
        exclusive=True,
    )


def outcome_note(record: ExportRecord, *, verb: str = "wrote") -> str:
    """Where a finished export's files are and how many rows they hold, for apply's line.

    ``verb`` says whose files they are: this run's (``wrote``) or an earlier export's.
    """
    if not record.files:
        return ""
    rows = record.rows
    counted = f" ({rows:,} rows)" if rows is not None else ""
    places = ", ".join(f.url for f in record.files)
    return f", {verb} {places}{counted}"
