"""An export's life through the client and the sandbox: started, running, done, reused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.errors import ApiError
from reconciler.providers.domo.client import StartedExport
from reconciler.providers.domo.kinds import phase_of
from reconciler.providers.domo.sandbox.service import INJECTED_ERROR_CODE
from reconciler.providers.domo.wire import DatasetExports, ExportRecord
from tests.providers.domo.conftest import DomoFactory
from tests.providers.domo.support import DATASET, DomoSandbox, entry, run


def start_and_list(sandbox: DomoSandbox, **fields: object) -> tuple[StartedExport, DatasetExports]:
    async def go() -> tuple[StartedExport, DatasetExports]:
        async with sandbox.client() as client:
            started = await client.start_export(entry(**fields).request, key="daily-sales")
            return started, await client.list_exports(DATASET)

    return run(go())


def list_exports(sandbox: DomoSandbox) -> DatasetExports:
    async def go() -> DatasetExports:
        async with sandbox.client() as client:
            return await client.list_exports(DATASET)

    return run(go())


def test_an_export_runs_then_succeeds_with_its_files_and_row_count(
    domo_factory: DomoFactory,
) -> None:
    sandbox = domo_factory(job_delay_ms=60_000)
    sandbox.dataset(rows=1234)
    started, listed = start_and_list(sandbox)
    assert started.outcome == "started" and not started.done
    assert started.record.status == "none"  # Domo's POST answer for a new export
    running = listed.by_id(started.record.export_id)
    assert running is not None and running.status == "exporting"
    assert phase_of(running.status) == "running" and running.files == ()

    sandbox.advance(61)

    async def poll() -> ExportRecord | None:
        async with sandbox.client() as client:
            return await client.export_status(DATASET, started.record.export_id)

    done = run(poll())
    assert done is not None and done.status == "success"
    assert done.rows == 1234
    assert done.destination == ("acme-exports", "domo/sales")
    assert [f.url for f in done.files] == [
        f"s3://acme-exports/domo/sales/{done.export_id}/export/data.csv.gz"
    ]
    assert done.started is not None and done.finished is not None
    assert done.finished - done.started == timedelta(seconds=60)


def test_a_second_post_while_one_runs_answers_with_the_running_export(
    domo_factory: DomoFactory,
) -> None:
    sandbox = domo_factory(job_delay_ms=60_000)
    sandbox.dataset()
    first, _ = start_and_list(sandbox)
    # Another destination: Domo still runs only one export per DataSet.
    second, listed = start_and_list(sandbox, path="domo/other")
    assert second.outcome == "busy"
    assert second.record.export_id == first.record.export_id
    assert len(listed.records) == 1


def test_unchanged_data_returns_the_previous_export_as_done(domo: DomoSandbox) -> None:
    domo.dataset()
    first, _ = start_and_list(domo)
    domo.advance(1)
    again, listed = start_and_list(domo, path="domo/elsewhere")
    assert again.outcome == "previous" and again.done
    assert again.record.export_id == first.record.export_id
    assert again.record.destination == ("acme-exports", "domo/sales")  # not the new path
    assert len(listed.records) == 1


def test_new_data_makes_a_new_export(domo: DomoSandbox) -> None:
    domo.dataset(rows=10)
    first, _ = start_and_list(domo)
    domo.advance(1)
    domo.bump(rows=25)
    second, listed = start_and_list(domo)
    assert second.outcome == "started"
    assert second.record.export_id != first.record.export_id
    domo.advance(1)
    latest = list_exports(domo).latest()
    assert latest is not None and latest.export_id == second.record.export_id
    assert latest.rows == 25
    assert len(listed.records) == 2


def test_a_failed_export_reports_its_error_code_and_message(domo_factory: DomoFactory) -> None:
    sandbox = domo_factory(job_failure_rate=1)
    sandbox.dataset()
    started, _ = start_and_list(sandbox)
    sandbox.advance(1)
    failed = list_exports(sandbox).by_id(started.record.export_id)
    assert failed is not None
    assert failed.status == "error" and phase_of(failed.status) == "failed"
    assert failed.error_code == INJECTED_ERROR_CODE
    assert failed.message is not None and "job_failure_rate" in failed.message
    assert failed.files == () and failed.rows is None


def test_a_failed_export_does_not_count_as_the_previous_one(domo_factory: DomoFactory) -> None:
    sandbox = domo_factory(job_failure_rate=1)
    sandbox.dataset()
    first, _ = start_and_list(sandbox)
    sandbox.advance(1)
    second, listed = start_and_list(sandbox)
    assert second.outcome == "started"
    assert second.record.export_id != first.record.export_id
    assert len(listed.records) == 2


@pytest.mark.parametrize("form", ["iso", "millis", "millis-string"])
def test_every_documented_timestamp_form_reads_as_the_same_instant(
    domo_factory: DomoFactory, form: str
) -> None:
    sandbox = domo_factory(timestamps=form)
    sandbox.dataset()
    started, _ = start_and_list(sandbox)
    sandbox.advance(1)
    raw = sandbox.raw_exports().json()[0]
    expected_type = {"iso": str, "millis": int, "millis-string": str}[form]
    assert isinstance(raw["started"], expected_type)
    assert ("T" in str(raw["started"])) == (form == "iso")
    record = list_exports(sandbox).by_id(started.record.export_id)
    assert record is not None and record.started is not None and record.finished is not None
    assert record.started == started.record.started
    assert record.finished - record.started == timedelta(milliseconds=50)


def test_ages_follow_the_servers_clock_not_this_machines(domo: DomoSandbox) -> None:
    domo.dataset()
    before = list_exports(domo).server_time
    domo.advance(3 * 86400)
    after = list_exports(domo).server_time
    assert after - before >= timedelta(days=3)


def test_a_query_naming_an_unknown_column_is_refused_with_domos_message(
    domo: DomoSandbox,
) -> None:
    domo.dataset(columns=["Region", "Sales"])
    with pytest.raises(ApiError) as caught:
        start_and_list(domo, query={"columns": ["Region", "Profit"]})
    assert caught.value.status_code == 400
    assert "Column 'Profit' does not exist" in str(caught.value)
    assert "(toe " in str(caught.value)  # Domo's trace id, for its support
    assert list_exports(domo).records == ()


def test_a_query_of_known_columns_is_accepted(domo: DomoSandbox) -> None:
    domo.dataset(columns=["Region", "Sales"])
    started, _ = start_and_list(
        domo, query={"columns": ["Region", "Sales"], "order_by": ["Sales"]}, include_bom=True
    )
    assert started.outcome == "started"


def test_an_export_id_the_dataset_does_not_have_reads_as_none(domo: DomoSandbox) -> None:
    domo.dataset()

    async def poll() -> ExportRecord | None:
        async with domo.client() as client:
            return await client.export_status(DATASET, "97d1244b-8ec4-45f8-a721-ae9602a9fa77")

    assert run(poll()) is None
