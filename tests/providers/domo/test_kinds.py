"""Kind facts: identity without credentials, status phases, and listed exports as the
core's snapshot planner reads them (it decides wait / fresh / run from these facts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.model import LiveScope, RunState, ScopeSpec, SnapshotSpec
from reconciler.plan import Action, DriftKind
from reconciler.providers.domo.kinds import (
    SNAPSHOT_TYPE,
    UNCHANGED_NOTE,
    live_run,
    phase_of,
    request_of,
)
from reconciler.providers.domo.section import dataset_scope
from reconciler.providers.domo.wire import parse_records
from reconciler.snapshot_planner import plan_snapshots
from tests.providers.domo.conftest import DomoFactory
from tests.providers.domo.support import DATASET, DomoSandbox, entry, run

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
secret_text = st.text(min_size=1, max_size=40)
access_keys = st.text(min_size=1, max_size=20).filter(lambda k: not k.startswith("ASIA"))
credentials = st.fixed_dictionaries(
    {"access_key": access_keys, "secret_key": secret_text},
    optional={"session_token": secret_text, "kms_key": secret_text},
)


@given(credentials, credentials)
def test_identity_ignores_credentials(one: dict[str, str], other: dict[str, str]) -> None:
    first = entry(credentials=one).request
    second = entry(credentials=other).request
    assert request_of(first) == request_of(second)
    assert first == second


@pytest.mark.parametrize(
    "change",
    [
        {"bucket": "acme-other"},
        {"path": "domo/other"},
        {"region": "eu-west-1"},
        {"query": {"columns": ["Region"]}},
        {"include_bom": True},
    ],
)
def test_identity_changes_with_every_part_of_the_request(change: dict[str, Any]) -> None:
    assert request_of(entry(**change).request) != request_of(entry().request)


def test_identity_is_normalized_and_holds_no_credential() -> None:
    upper = entry(dataset_id=DATASET.upper(), path="/domo/sales/")
    assert upper.request.dataset_id == DATASET
    assert request_of(upper.request) == request_of(entry().request)
    assert request_of(entry().request)["path"] == "domo/sales"
    assert "credentials" not in request_of(entry().request)


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ("none", "running"),
        ("exporting", "running"),
        ("success", "succeeded"),
        ("SUCCESS", "succeeded"),
        ("error", "failed"),
        ("queued", "running"),  # undocumented: keep polling, never call it done
        ("", "running"),
    ],
)
def test_statuses_map_to_three_phases(status: str, phase: str) -> None:
    assert phase_of(status) == phase


def done(export_id: str, finished: datetime, *, path: str = "domo/sales") -> dict[str, Any]:
    url = f"s3://acme-exports/{path}/{export_id}/export/data.csv.gz"
    return {
        "exportId": export_id,
        "exportStatus": "success",
        "bucket": "acme-exports",
        "started": (finished - timedelta(minutes=1)).isoformat(),
        "finished": finished.isoformat(),
        "urlRowCountMap": {url: 1500},
    }


def plan_of(*records: dict[str, Any], now: datetime = NOW, **fields: Any) -> Any:
    """The core planner's one change for the default entry, against these status objects."""
    wanted = entry(**fields)
    snapshot = SnapshotSpec(
        wanted.key,
        SNAPSHOT_TYPE,
        request_of(wanted.request),
        max_age_s=wanted.max_age.total_seconds(),
        run_note=UNCHANGED_NOTE,
    )
    scope = dataset_scope(DATASET)
    runs = tuple(live_run(r, now, [snapshot.request]) for r in parse_records(records))
    plan = plan_snapshots(ScopeSpec(scope, snapshots=(snapshot,)), LiveScope(scope, runs=runs))
    (change,) = plan.changes
    return change


def test_a_young_export_to_the_same_place_is_fresh() -> None:
    change = plan_of(done("E1", NOW - timedelta(hours=2, minutes=5)))
    assert change.action is Action.FRESH and change.resource_id == "E1"
    assert "2h 5m ago, max_age 6h" in change.reason


def test_an_old_export_runs_again_and_the_plan_warns_about_unchanged_data() -> None:
    change = plan_of(done("E1", NOW - timedelta(hours=8)))
    assert change.action is Action.RUN and change.drift is DriftKind.STALE
    assert "is 8h old, older than max_age 6h" in change.reason
    assert "Domo answers with that previous export" in change.reason


def test_a_young_export_elsewhere_does_not_count() -> None:
    change = plan_of(done("E1", NOW, path="domo/other"))
    assert change.action is Action.RUN
    assert "no run of this request exists yet" in change.reason


def test_any_running_export_of_the_dataset_makes_the_entry_wait() -> None:
    started = (NOW - timedelta(minutes=3)).isoformat()
    running = {"exportId": "E2", "exportStatus": "queued", "bucket": "other", "started": started}
    change = plan_of(done("E1", NOW - timedelta(days=2)), running)
    assert change.action is Action.WAIT and change.resource_id == "E2"
    assert "'queued' (a status Domo does not document" in change.reason
    assert "requested 3m ago" in change.reason


def test_a_failure_to_the_entrys_bucket_is_its_failure_with_code_and_message() -> None:
    failed = {
        "exportId": "E2",
        "exportStatus": "error",
        "bucket": "acme-exports",
        "started": NOW.isoformat(),
        "errorCode": "S3_ACCESS_DENIED",
        "message": "Access Denied",
    }
    change = plan_of(done("E1", NOW - timedelta(days=1)), failed)
    assert change.action is Action.RUN and change.drift is DriftKind.FAILED
    assert "(E2) failed: S3_ACCESS_DENIED: Access Denied" in change.reason


def test_a_server_clock_behind_the_export_is_not_a_negative_age() -> None:
    (listed,) = parse_records([done("E1", NOW + timedelta(minutes=5))])
    assert live_run(listed, NOW, []).age_s == 0
    assert plan_of(done("E1", NOW + timedelta(minutes=5))).action is Action.FRESH


def test_a_success_without_any_time_is_never_fresh() -> None:
    record = {**done("E1", NOW), "started": None, "finished": None}
    (listed,) = parse_records([record])
    assert live_run(listed, NOW, []).state is RunState.SUCCEEDED
    assert plan_of(record).action is Action.RUN


def test_the_plan_follows_the_sandbox_through_a_whole_day(domo_factory: DomoFactory) -> None:
    """wait while it runs, fresh once done, run again when the server's clock says so."""
    sandbox: DomoSandbox = domo_factory(job_delay_ms=10 * 60_000)
    sandbox.dataset()
    wanted = entry(max_age="6h")

    async def plan_now() -> Action:
        async with sandbox.client() as client:
            exports = await client.list_exports(DATASET)
        raw = [_raw(r) for r in exports.records]
        action: Action = plan_of(*raw, now=exports.server_time, max_age="6h").action
        return action

    async def start() -> None:
        async with sandbox.client() as client:
            await client.start_export(wanted.request)

    assert run(plan_now()) is Action.RUN
    run(start())
    assert run(plan_now()) is Action.WAIT
    sandbox.advance(11 * 60)
    assert run(plan_now()) is Action.FRESH
    sandbox.advance(6 * 3600)
    assert run(plan_now()) is Action.RUN


def _raw(record: Any) -> dict[str, Any]:
    """A parsed record back as a status object (the sandbox's answer, already read)."""
    return {
        "exportId": record.export_id,
        "exportStatus": record.status,
        "bucket": record.bucket,
        "started": record.started.isoformat() if record.started else None,
        "finished": record.finished.isoformat() if record.finished else None,
        "urlRowCountMap": {f.url: f.rows for f in record.files},
    }
