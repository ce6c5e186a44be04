"""Transient failures through the sandbox's seeded fault knobs, and the lost-answer rule."""

from __future__ import annotations

import pytest

from reconciler.errors import ApiError, MaybeLandedError
from reconciler.providers.domo.client import StartedExport
from reconciler.providers.domo.wire import DatasetExports
from tests.providers.domo.conftest import DomoFactory
from tests.providers.domo.support import DATASET, SleepLog, entry, instant_retry, run


def test_reads_are_retried_through_503s(domo_factory: DomoFactory) -> None:
    sandbox = domo_factory(error_rate=0.5, seed=3)
    log = SleepLog()
    sandbox.dataset()

    async def read_ten_times() -> list[DatasetExports]:
        async with sandbox.client(retry=instant_retry(log, max_attempts=10)) as client:
            return [await client.list_exports(DATASET) for _ in range(10)]

    assert [len(e.records) for e in run(read_ten_times())] == [0] * 10
    assert len(log.delays) >= 3  # faults happened and were retried
    assert set(log.delays) <= {1.0, 2.0, 4.0}  # exponential backoff, capped


def test_reads_give_up_after_the_last_attempt_with_domos_words(
    domo_factory: DomoFactory,
) -> None:
    sandbox = domo_factory(error_rate=1)
    log = SleepLog()

    async def read() -> None:
        async with sandbox.client(retry=instant_retry(log, max_attempts=3)) as client:
            await client.list_exports(DATASET)

    with pytest.raises(ApiError) as caught:
        run(read())
    assert caught.value.status_code == 503
    assert "after 3 attempts" in str(caught.value)
    assert "service unavailable (error_rate)" in str(caught.value)
    assert len(log.delays) == 2


def test_a_throttled_post_is_retried_and_starts_one_export(domo_factory: DomoFactory) -> None:
    sandbox = domo_factory(throttle_rate=0.6, retry_after_s=0.25, seed=4, job_delay_ms=60_000)
    log = SleepLog()
    sandbox.dataset()

    async def start_then_list() -> tuple[StartedExport, DatasetExports]:
        async with sandbox.client(retry=instant_retry(log, max_attempts=20)) as client:
            started = await client.start_export(entry().request)
            return started, await client.list_exports(DATASET)

    started, listed = run(start_then_list())
    assert 0.25 in log.delays  # Retry-After was honoured
    assert started.outcome == "started"
    assert [r.export_id for r in listed.records] == [started.record.export_id]


@pytest.mark.parametrize("mode", ["503", "drop"])
def test_a_post_whose_answer_is_lost_is_not_resent(domo_factory: DomoFactory, mode: str) -> None:
    """The export was started; resending blindly is the core's call, after a listing."""
    sandbox = domo_factory(commit_then_fail_every=1, commit_then_fail_mode=mode)
    log = SleepLog()
    sandbox.dataset()

    async def start() -> None:
        async with sandbox.client(retry=instant_retry(log)) as client:
            await client.start_export(entry().request, key="daily-sales")

    with pytest.raises(MaybeLandedError) as caught:
        run(start())
    assert "'daily-sales'" in str(caught.value)
    assert log.delays == []  # sent once
    assert len(sandbox.raw_exports().json()) == 1  # and it did land
