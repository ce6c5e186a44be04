"""202 answers become jobs; the one poller asks for every outstanding job in one request."""

import asyncio
from typing import Any

import pytest

from reconciler.apply.jobs import JobWaiter
from reconciler.errors import JobFailedError
from reconciler.providers.base import JobState
from reconciler.providers.mammoth.client import MammothClient, MutationResult
from reconciler.providers.mammoth.jobs import job_state
from reconciler.providers.mammoth.provider import MammothProvider
from tests.conftest import SandboxFactory
from tests.providers.mammoth.client.support import REF, RecordingTransport, run, s3_body
from tests.sandboxes import RunningSandbox


def test_adds_answered_with_jobs_are_waited_for_together(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(job_rate=1, job_delay_ms=40)
    sandbox.store.ensure_dataviews([REF])
    transport = RecordingTransport()

    async def add_three() -> tuple[list[MutationResult], list[JobState], int]:
        async with MammothClient(
            sandbox.base_url, "sandbox", "sandbox", transport=transport
        ) as client:
            results = [await client.add_export(REF, s3_body(f"{n}.csv")) for n in range(3)]
            waiter = JobWaiter(MammothProvider(client).poll_jobs, timeout=5, poll_interval=0.01)
            jobs = await asyncio.gather(
                *(waiter.wait(str(r.job_id), "add") for r in results if r.job_id is not None)
            )
            await waiter.close()
            return results, list(jobs), len(await client.list_exports(REF))

    results, jobs, listed = run(add_three())
    assert [r.status_code for r in results] == [202, 202, 202]
    job_ids = [r.job_id for r in results]
    assert [job.job_id for job in jobs] == [str(job_id) for job_id in job_ids]
    assert {job.status for job in jobs} == {"success"}
    assert all(job.resource_id is not None for job in jobs)
    assert listed == 3
    polls = [query for method, path, query in transport.requests if path.endswith("/jobs")]
    assert polls[0] == "job_ids=" + "%2C".join(map(str, job_ids))  # all three in one request
    assert not [p for _, p, _ in transport.requests if "/jobs/" in p]


def test_a_failed_job_is_reported_with_the_servers_reason(
    sandbox_factory: SandboxFactory,
) -> None:
    sandbox = sandbox_factory(job_rate=1, job_failure_rate=1, job_delay_ms=0)
    sandbox.store.ensure_dataviews([REF])

    async def add() -> None:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox") as client:
            result = await client.add_export(REF, s3_body("a.csv"))
            assert result.job_id is not None
            waiter = JobWaiter(MammothProvider(client).poll_jobs, timeout=5, poll_interval=0.01)
            try:
                await waiter.wait(str(result.job_id), "add a")
            finally:
                await waiter.close()

    with pytest.raises(JobFailedError, match=r"the server reported failure: \S"):
        run(add())


@pytest.mark.parametrize(
    ("response", "failure"),
    [
        ({"failure_reason": "quota"}, "quota"),
        ({"detail": "bad table"}, "bad table"),
        ({"error": "boom", "message": "later"}, "boom"),
        ({}, "no detail given"),
        (None, "no detail given"),
    ],
)
def test_a_failed_jobs_reason_is_read_where_mammoth_puts_it(
    response: dict[str, Any] | None, failure: str
) -> None:
    state = job_state({"id": 4, "status": "error", "response": response})
    assert (state.finished, state.failure) == (True, failure)


def test_a_finished_job_names_the_export_it_made() -> None:
    state = job_state({"id": 4, "status": "success", "response": {"trigger_id": 31}})
    assert state == JobState("4", "success", finished=True, failure=None, resource_id="31")
    assert job_state({"id": 5, "status": "processing"}).finished is False


def test_asking_for_no_jobs_sends_nothing(sandbox: RunningSandbox) -> None:
    transport = RecordingTransport()

    async def ask() -> list[dict[str, Any]]:
        async with MammothClient(
            sandbox.base_url, "sandbox", "sandbox", transport=transport
        ) as client:
            return await client.get_jobs([])

    assert run(ask()) == []
    assert transport.requests == []


@pytest.mark.parametrize("count", [0, 1])
def test_get_jobs_of_unknown_ids(sandbox: RunningSandbox, count: int) -> None:
    async def jobs() -> list[dict[str, Any]]:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox") as client:
            return await client.get_jobs(range(1000, 1000 + count))

    assert run(jobs()) == []
