"""The snapshot kind's facts: identity, a job as the core's ``LiveRun``, max_age, reasons.

What to run, wait for or prune is the core's snapshot planner's (tested there)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.model import LiveRun, RunState, freeze
from reconciler.providers.datatools import snapshots
from reconciler.providers.datatools.filters import FilterNote
from reconciler.providers.datatools.wire import ExportJob

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SALES = "5a1e5000-0000-4000-8000-000000000001"


def job(job_id: str, status: str, age: timedelta, **fields: Any) -> ExportJob:
    created = NOW - age
    values: dict[str, Any] = {
        "id": job_id,
        "user": "sandbox",
        "datasource_id": SALES,
        "datasource_name": "sales",
        "status": status,
        "format": "csv",
        "filters": freeze({}),
        "progress": 100 if status == "completed" else 0,
        "error_message": "",
        "file_size": None,
        "row_count": None,
        "created_at": created,
        "started_at": None,
        "completed_at": None,
        "expires_at": created + timedelta(days=7),
    }
    return ExportJob(**{**values, **fields})


def test_identity_is_the_request_as_the_server_keeps_it() -> None:
    entry = snapshots.snapshot_request(
        SALES.upper().replace("-", ""), "CSV", {"limit": 10, "date_range": {}, "offset": 0}
    )
    listed = job("j", "completed", timedelta(0), filters=freeze({"limit": 10, "columns": []}))
    assert snapshots.request_of(listed) == entry
    assert entry.body() == {"datasource": SALES, "format": "csv", "filters": {"limit": 10}}
    assert snapshots.request_of(job("j", "completed", timedelta(0), format="json")) != entry
    assert snapshots.SnapshotRequest.of(entry.identity()) == entry


def test_a_job_is_a_live_run_aged_by_the_servers_clock() -> None:
    listed = job("j1", "failed", timedelta(hours=2), error_message="boom")
    assert snapshots.live_run(listed, NOW) == LiveRun(
        run_id="j1",
        request=freeze({"datasource": SALES, "format": "csv", "filters": {}}),
        state=RunState.FAILED,
        age_s=7200.0,
        status="failed",
        failure="boom",
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("pending", RunState.RUNNING),
        ("processing", RunState.RUNNING),
        ("completed", RunState.SUCCEEDED),
        ("expired", RunState.EXPIRED),
        ("failed", RunState.FAILED),
        ("cancelled", RunState.FAILED),
        ("queued-by-a-newer-server", RunState.RUNNING),
    ],
)
def test_statuses_map_to_the_cores_run_states(status: str, state: RunState) -> None:
    assert snapshots.run_state(job("j", status, timedelta(hours=1)), NOW) is state


def test_a_completed_job_past_its_expiry_is_expired() -> None:
    gone = job("j1", "completed", timedelta(days=8), expires_at=NOW - timedelta(days=1))
    assert snapshots.run_state(gone, NOW) is RunState.EXPIRED


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("6h", 21600), ("30m", 1800), ("1d", 86400), ("1d12h", 129600), ("2w", 1209600), ("45s", 45)],
)
def test_max_age_reads_a_number_and_a_unit(text: str, seconds: int) -> None:
    assert snapshots.parse_max_age(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("6 hours", "is not a duration like 30m, 6h or 1d"),
        ("h", "is not a duration"),
        ("6", "is not a duration"),
        ("1.5h", "is not a duration"),
        ("0m", "must be longer than zero"),
        ("1000000000d", "is longer than any clock can count"),
    ],
)
def test_a_bad_max_age_says_what_is_expected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        snapshots.parse_max_age(text)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"status": "failed", "error_message": "['“sales” is not a valid UUID.']"},
            "['“sales” is not a valid UUID.'] (a known bug of the "
            "server (it looks the datasource up by name instead of id); every job fails this "
            "way until the server is fixed)",
        ),
        (
            {"status": "failed", "error_message": "No data available for export"},
            "No data available for export (the datasource has no rows)",
        ),
        ({"status": "failed"}, "no detail given"),
        ({"status": "cancelled"}, "the job was cancelled"),
        ({"status": "completed"}, None),
    ],
)
def test_a_failed_job_says_why_with_what_is_known(
    fields: dict[str, Any], reason: str | None
) -> None:
    assert snapshots.failure_reason(job("j4", age=timedelta(minutes=5), **fields)) == reason


def test_snapshot_filter_notes_for_validate() -> None:
    filters = {"date_range": {"start": "a", "end": "b"}, "where_conditions": [{"c": 1}]}
    notes = [*snapshots.dropped_keys(filters), *snapshots.worker_caveats(filters)]
    assert [note.key for note in notes] == ["filters.date_range", "filters.where_conditions"]
    assert snapshots.dropped_keys({"limit": 0, "offset": 5}) == []  # jobs keep empty values
    caveats = snapshots.worker_caveats({"limit": 5, "offset": 2, "group_by": "region"})
    assert caveats == [
        FilterNote("filters.group_by", "stored, but the worker ignores it"),
        FilterNote(
            "filters.limit",
            "the worker takes the first rows before offset and where_conditions apply, so "
            "fewer rows may come out than limit says",
        ),
    ]
