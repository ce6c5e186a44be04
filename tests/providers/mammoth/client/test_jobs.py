"""202 answers become jobs; waiting polls every outstanding job in one request."""

from typing import Any

import pytest

from reconciler.providers.mammoth.client import JobTimeoutError, MammothClient, MutationResult
from reconciler.sandbox.server import RunningSandbox
from tests.conftest import SandboxFactory
from tests.providers.mammoth.client.support import REF, RecordingTransport, run, s3_body


def test_adds_answered_with_jobs_are_waited_for_together(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(job_rate=1, job_delay_ms=40)
    sandbox.store.ensure_dataviews([REF])
    transport = RecordingTransport()

    async def add_three() -> tuple[list[MutationResult], dict[int, dict[str, Any]], int]:
        async with MammothClient(
            sandbox.base_url, "sandbox", "sandbox", transport=transport
        ) as client:
            results = [await client.add_export(REF, s3_body(f"{n}.csv")) for n in range(3)]
            jobs = await client.wait_for_jobs(
                [r.job_id for r in results if r.job_id is not None], timeout=5, poll_interval=0.01
            )
            return results, jobs, len(await client.list_exports(REF))

    results, jobs, listed = run(add_three())
    assert [r.status_code for r in results] == [202, 202, 202]
    job_ids = [r.job_id for r in results]
    assert list(jobs) == job_ids
    assert {job["status"] for job in jobs.values()} == {"success"}
    assert listed == 3
    polls = [query for method, path, query in transport.requests if path.endswith("/jobs")]
    assert polls[0] == "job_ids=" + "%2C".join(map(str, job_ids))  # all three in one request
    assert not [p for _, p, _ in transport.requests if "/jobs/" in p]


def test_a_failed_job_is_returned_not_raised(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(job_rate=1, job_failure_rate=1, job_delay_ms=0)
    sandbox.store.ensure_dataviews([REF])

    async def add() -> dict[int, dict[str, Any]]:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox") as client:
            result = await client.add_export(REF, s3_body("a.csv"))
            assert result.job_id is not None
            return await client.wait_for_jobs([result.job_id], timeout=5, poll_interval=0.01)

    [job] = run(add()).values()
    assert job["status"] == "failure"


def test_get_job_reads_one_job(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(job_rate=1, job_delay_ms=60_000)
    sandbox.store.ensure_dataviews([REF])

    async def add() -> tuple[int | None, dict[str, Any]]:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox") as client:
            result = await client.add_export(REF, s3_body("a.csv"))
            assert result.job_id is not None
            return result.job_id, await client.get_job(result.job_id)

    job_id, job = run(add())
    assert (job["id"], job["status"]) == (job_id, "processing")


def test_jobs_still_processing_at_the_timeout_are_named(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(job_rate=1, job_delay_ms=60_000)
    sandbox.store.ensure_dataviews([REF])

    async def add_and_wait() -> list[int]:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox") as client:
            results = [await client.add_export(REF, s3_body(f"{n}.csv")) for n in range(2)]
            ids = [r.job_id for r in results if r.job_id is not None]
            try:
                await client.wait_for_jobs(ids, timeout=0.1, poll_interval=0.02)
            except JobTimeoutError as error:
                assert error.job_ids == tuple(ids)
                assert error.message == (
                    f"Jobs {ids[0]}, {ids[1]} still processing after 0.1s. They may still "
                    "finish: raise --job-timeout, or run plan later to see their effect."
                )
                return ids
            raise AssertionError("wait_for_jobs returned before the jobs finished")

    assert len(run(add_and_wait())) == 2


def test_waiting_for_no_jobs_sends_nothing(sandbox: RunningSandbox) -> None:
    transport = RecordingTransport()

    async def wait() -> dict[int, dict[str, Any]]:
        async with MammothClient(
            sandbox.base_url, "sandbox", "sandbox", transport=transport
        ) as client:
            return await client.wait_for_jobs([], timeout=1)

    assert run(wait()) == {}
    assert transport.requests == []


@pytest.mark.parametrize("count", [0, 1])
def test_get_jobs_of_unknown_ids(sandbox: RunningSandbox, count: int) -> None:
    async def jobs() -> list[dict[str, Any]]:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox") as client:
            return await client.get_jobs(range(1000, 1000 + count))

    assert run(jobs()) == []
