"""The shared job poller: batched requests, failures and timeouts named by job id."""

import asyncio
from collections.abc import Sequence

import pytest

from reconciler.apply.jobs import JobWaiter
from reconciler.errors import ApiError, JobFailedError
from reconciler.providers.base import JobState


class ScriptedJobs:
    """Jobs that finish after a given number of polls; records each batch asked for."""

    def __init__(self, finish_after: dict[str, tuple[int, str]]) -> None:
        self.finish_after = finish_after
        self.batches: list[list[str]] = []

    async def __call__(self, ids: Sequence[str]) -> list[JobState]:
        self.batches.append(list(ids))
        polls = len(self.batches)
        return [self._job(job_id, polls) for job_id in ids]

    def _job(self, job_id: str, polls: int) -> JobState:
        after, final = self.finish_after[job_id]
        if polls < after:
            return JobState(job_id, "processing", finished=False)
        failure = "disk full" if final == "failure" else None
        return JobState(job_id, final, finished=True, failure=failure)


def test_concurrent_waiters_share_batched_polls() -> None:
    jobs = ScriptedJobs({"1": (1, "success"), "2": (2, "success"), "3": (2, "success")})

    async def run() -> list[JobState]:
        waiter = JobWaiter(jobs, timeout=5, poll_interval=0.001)
        done = await asyncio.gather(*(waiter.wait(i, f"add e{i}") for i in ("1", "2", "3")))
        await waiter.close()
        return list(done)

    records = asyncio.run(run())
    assert [r.job_id for r in records] == ["1", "2", "3"]
    assert jobs.batches == [["1", "2", "3"], ["2", "3"]]


def test_a_failed_job_names_itself_and_the_change() -> None:
    jobs = ScriptedJobs({"9": (1, "failure")})

    async def run() -> None:
        waiter = JobWaiter(jobs, timeout=5, poll_interval=0.001)
        await waiter.wait("9", "add monthly-sales")

    with pytest.raises(JobFailedError) as caught:
        asyncio.run(run())
    assert caught.value.message == (
        "job 9 for add monthly-sales failed: the server reported failure: disk full"
    )


def test_a_timeout_says_which_job_and_what_to_do() -> None:
    jobs = ScriptedJobs({"5": (10_000, "success")})

    async def run() -> None:
        waiter = JobWaiter(jobs, timeout=0.05, poll_interval=0.01)
        try:
            await waiter.wait("5", "delete old")
        finally:
            await waiter.close()

    with pytest.raises(ApiError) as caught:
        asyncio.run(run())
    assert caught.value.message == (
        "job 5 for delete old did not finish within 0.05s (last status: processing); "
        "it may still finish on the server. Wait until it has (its status says success "
        "or failure) before applying again, or a rerun may add the export twice; raise "
        "--job-timeout to wait longer."
    )
