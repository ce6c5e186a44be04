"""Kind facts: identity without credentials, status phases, and the plan's decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.providers.domo.kinds import decide, format_age, identity, phase_of
from reconciler.providers.domo.wire import DatasetExports, parse_records
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
    assert identity(first) == identity(second)
    assert identity(first).digest == identity(second).digest
    assert first == second


@pytest.mark.parametrize(
    "change",
    [
        {"bucket": "acme-other"},
        {"path": "domo/other"},
        {"region": "eu-west-1"},
        {"dataset_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
        {"query": {"columns": ["Region"]}},
        {"include_bom": True},
    ],
)
def test_identity_changes_with_every_part_of_the_request(change: dict[str, Any]) -> None:
    assert identity(entry(**change).request).digest != identity(entry().request).digest


def test_identity_is_normalized() -> None:
    upper = entry(dataset_id=DATASET.upper(), path="/domo/sales/")
    assert identity(upper.request) == identity(entry().request)
    assert identity(entry().request).as_dict()["path"] == "domo/sales"


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


def exports(*records: dict[str, Any], now: datetime = NOW) -> DatasetExports:
    return DatasetExports(DATASET, parse_records(records), now)


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


def test_a_young_export_to_the_same_place_is_fresh() -> None:
    decision = decide(entry(), exports(done("E1", NOW - timedelta(hours=2, minutes=5))))
    assert decision.action == "fresh" and decision.export_id == "E1"
    assert decision.reason == (
        "export E1 to s3://acme-exports/domo/sales finished 2h 5m ago, within max_age 6h, "
        "1,500 rows."
    )


def test_an_old_export_runs_again_and_the_plan_warns_about_unchanged_data() -> None:
    decision = decide(entry(), exports(done("E1", NOW - timedelta(hours=8))))
    assert decision.action == "run"
    assert "finished 8h ago, older than max_age 6h" in decision.reason
    assert "Domo answers with that previous export" in decision.reason


def test_a_young_export_elsewhere_does_not_count() -> None:
    decision = decide(entry(), exports(done("E1", NOW, path="domo/other")))
    assert decision.action == "run"
    assert "no successful export to s3://acme-exports/domo/sales yet" in decision.reason


def test_any_running_export_of_the_dataset_makes_the_entry_wait() -> None:
    started = (NOW - timedelta(minutes=3)).isoformat()
    running = {"exportId": "E2", "exportStatus": "queued", "started": started}
    decision = decide(entry(), exports(done("E1", NOW - timedelta(days=2)), running))
    assert decision.action == "wait" and decision.export_id == "E2"
    assert "'queued', a status Domo does not document" in decision.reason
    assert "started 3m ago" in decision.reason
    assert "one export per DataSet at a time" in decision.reason


def test_the_last_failure_is_shown_with_its_code_and_message() -> None:
    failed = {
        "exportId": "E2",
        "exportStatus": "error",
        "bucket": "acme-exports",
        "started": NOW.isoformat(),
        "errorCode": "S3_ACCESS_DENIED",
        "message": "Access Denied",
    }
    decision = decide(entry(), exports(done("E1", NOW - timedelta(days=1)), failed))
    assert decision.action == "run"
    assert "last export (E2) failed (S3_ACCESS_DENIED: Access Denied)" in decision.reason


def test_a_server_clock_behind_the_export_is_not_a_negative_age() -> None:
    decision = decide(entry(), exports(done("E1", NOW + timedelta(minutes=5))))
    assert decision.action == "fresh" and "finished 0s ago" in decision.reason


def test_exports_of_another_dataset_cannot_decide() -> None:
    other = DatasetExports("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", (), NOW)
    with pytest.raises(ValueError, match="cannot decide"):
        decide(entry(), other)


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(seconds=45), "45s"),
        (timedelta(hours=2, minutes=5, seconds=9), "2h 5m"),
        (timedelta(days=3, hours=4), "3d 4h"),
        (timedelta(hours=1, seconds=5), "1h"),
        (timedelta(0), "0s"),
    ],
)
def test_ages_read_in_their_two_largest_units(age: timedelta, text: str) -> None:
    assert format_age(age) == text


def test_the_decision_follows_the_sandbox_through_a_whole_day(domo_factory: DomoFactory) -> None:
    """wait while it runs, fresh once done, run again when the server's clock says so."""
    sandbox: DomoSandbox = domo_factory(job_delay_ms=10 * 60_000)
    sandbox.dataset()
    wanted = entry(max_age="6h")

    async def decide_now() -> str:
        async with sandbox.client() as client:
            return decide(wanted, await client.list_exports(DATASET)).action

    async def start() -> None:
        async with sandbox.client() as client:
            await client.start_export(wanted.request)

    assert run(decide_now()) == "run"
    run(start())
    assert run(decide_now()) == "wait"
    sandbox.advance(11 * 60)
    assert run(decide_now()) == "fresh"
    sandbox.advance(6 * 3600)
    assert run(decide_now()) == "run"
