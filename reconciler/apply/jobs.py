"""Following background jobs to their end, all pending jobs in one poll.

Scopes are applied concurrently and each may be waiting on a job. Rather
than every waiter polling on its own, one loop asks the provider for every
pending id at once (Mammoth: ``GET /jobs?job_ids=...``) and wakes the waiters
whose jobs ended, so a run with fifty jobs in flight costs one request per
interval, not fifty. This is the only job poller: providers only read jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence

from reconciler.errors import ApiError, JobFailedError
from reconciler.providers.base import JobState

__all__ = ["JobWaiter"]

# Largest number of ids asked for in one poll, to keep a request's URL short.
_BATCH = 50

FetchJobs = Callable[[Sequence[str]], Awaitable[Iterable[JobState]]]
OnWait = Callable[[int, float], None]  # (jobs still pending, seconds since the first wait)


class JobWaiter:
    """Wait for jobs to end; one shared poll loop serves every waiter.

    ``fetch`` is the provider's ``poll_jobs``. ``timeout`` bounds each wait; a job
    that outlives it is reported by id and may still finish on the server, which
    is why the message sends the user to ``exportctl plan``.
    """

    def __init__(
        self,
        fetch: FetchJobs,
        *,
        timeout: float,
        poll_interval: float = 0.5,
        on_wait: OnWait | None = None,
    ) -> None:
        self._fetch = fetch
        self._on_wait = on_wait
        self._timeout = timeout
        self._interval = poll_interval
        self._pending: dict[str, asyncio.Future[JobState]] = {}
        self._last_status: dict[str, str] = {}
        self._poller: asyncio.Task[None] | None = None

    async def wait(self, job_id: str, what: str) -> JobState:
        """The job's final state once it succeeded; ``ApiError`` if it failed or timed out.

        ``what`` names the change for the error message ("add monthly-sales").
        """
        future = self._pending.get(job_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._pending[job_id] = future
        self._ensure_polling()
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except TimeoutError:
            self._pending.pop(job_id, None)
            raise self._timed_out(job_id, what) from None
        except ApiError as error:
            kind = JobFailedError if isinstance(error, JobFailedError) else ApiError
            raise kind(f"job {job_id} for {what} failed: {error.message}") from None

    async def close(self) -> None:
        """Stop the poll loop (it also stops by itself when nothing is pending)."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    def _timed_out(self, job_id: str, what: str) -> ApiError:
        status = self._last_status.get(job_id, "unknown")
        # An apply started while the job still runs cannot see its export yet
        # and would add it a second time: hence "wait", not "apply again".
        return ApiError(
            f"job {job_id} for {what} did not finish within {self._timeout:g}s "
            f"(last status: {status}); it may still finish on the server. Wait until "
            "it has (its status says success or failure) before applying again, "
            "or a rerun may add the export twice; raise --job-timeout to wait longer."
        )

    def _ensure_polling(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll_loop())

    async def _poll_loop(self) -> None:
        started = asyncio.get_running_loop().time()
        while self._pending:
            await asyncio.sleep(self._interval)
            if self._on_wait is not None:
                self._on_wait(len(self._pending), asyncio.get_running_loop().time() - started)
            # Shorter ids first, then by text: numeric ids poll in numeric order.
            ids = sorted(self._pending, key=lambda job_id: (len(job_id), job_id))
            for start in range(0, len(ids), _BATCH):
                await self._poll_batch(ids[start : start + _BATCH])

    async def _poll_batch(self, ids: list[str]) -> None:
        try:
            jobs = list(await self._fetch(ids))
        except ApiError as error:
            for job_id in ids:
                self._settle(job_id, error=error)
            return
        for job in jobs:
            self._record(job)

    def _record(self, job: JobState) -> None:
        self._last_status[job.job_id] = job.status
        if job.failure is not None:
            message = f"the server reported {job.status}: {job.failure}"
            self._settle(job.job_id, error=JobFailedError(message))
        elif job.finished:
            self._settle(job.job_id, record=job)

    def _settle(
        self,
        job_id: str,
        *,
        record: JobState | None = None,
        error: ApiError | None = None,
    ) -> None:
        future = self._pending.pop(job_id, None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        elif record is not None:
            future.set_result(record)
