"""Retries through the sandbox's injected faults, and the maybe-landed rule.

Faults are drawn from a seeded random stream in request order, so each test
meets the same faults on every run.
"""

from typing import Any

import pytest

from reconciler.errors import ApiError, MaybeLandedError
from reconciler.providers.mammoth.client import MammothClient, MutationResult
from reconciler.providers.mammoth.sandbox.seed import add_exports
from tests.conftest import SandboxFactory
from tests.providers.mammoth.client.support import REF, SleepLog, instant_policy, run, s3_body
from tests.sandboxes import RunningSandbox


def client_for(sandbox: RunningSandbox, log: SleepLog, **kwargs: Any) -> MammothClient:
    return MammothClient(
        sandbox.base_url, "sandbox", "sandbox", retry=instant_policy(log, **kwargs)
    )


def test_reads_retry_through_503s_with_exponential_backoff(
    sandbox_factory: SandboxFactory,
) -> None:
    sandbox = sandbox_factory(error_rate=0.5, seed=3)
    sandbox.store.ensure_dataviews([REF])
    log = SleepLog()

    async def list_ten_times() -> list[list[dict[str, Any]]]:
        async with client_for(sandbox, log) as client:
            return [await client.list_exports(REF) for _ in range(10)]

    assert run(list_ten_times()) == [[]] * 10
    assert len(log.delays) >= 3  # the faults really happened and were retried
    assert set(log.delays) <= {1.0, 2.0, 4.0, 5.0}  # backoff doubling up to max_delay


def test_throttled_requests_wait_as_long_as_retry_after_says(
    sandbox_factory: SandboxFactory,
) -> None:
    sandbox = sandbox_factory(throttle_rate=0.5, retry_after_s=0.01, seed=5)
    sandbox.store.ensure_dataviews([REF])
    log = SleepLog()

    async def list_ten_times() -> None:
        async with client_for(sandbox, log) as client:
            for _ in range(10):
                await client.list_exports(REF)

    run(list_ten_times())
    assert len(log.delays) >= 3
    assert set(log.delays) == {0.01}  # not the policy's 1 s backoff


def test_a_throttled_add_is_retried_and_lands_once(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(throttle_rate=0.7, retry_after_s=0, seed=1)
    sandbox.store.ensure_dataviews([REF])
    log = SleepLog()

    async def add_then_list() -> tuple[MutationResult, list[dict[str, Any]]]:
        async with client_for(sandbox, log, max_attempts=20) as client:
            result = await client.add_export(REF, s3_body("once.csv"))
            return result, await client.list_exports(REF)

    result, records = run(add_then_list())
    assert log.delays  # at least one 429 was retried
    assert (result.status_code, result.status) == (202, "success")
    assert [r["target_properties"]["file"] for r in records] == ["once.csv"]


def test_retries_give_up_with_a_clear_error(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(error_rate=1)
    log = SleepLog()

    async def listing() -> None:
        async with client_for(sandbox, log, max_attempts=3) as client:
            await client.list_exports(REF)

    with pytest.raises(ApiError) as caught:
        run(listing())
    assert caught.value.message == (
        "Could not list the exports of dataview 1/1/1/1: the API answered 503 (sandbox "
        "fault: service unavailable (error_rate)) after 3 attempts. The API is busy or "
        "having trouble: try again later, or lower --parallelism."
    )
    assert caught.value.status_code == 503
    assert log.delays == [1.0, 2.0]


ADD_503 = (
    "Not sure whether the request to add an export to dataview 1/1/1/1 (export key "
    "'monthly') took effect: the API answered 503 (sandbox fault: the change was saved, "
    "but the answer failed (503)). It may have landed; run plan to see the dataview as it "
    "is now before applying again."
)
ADD_DROP = (
    "Not sure whether the request to add an export to dataview 1/1/1/1 (export key "
    "'monthly') took effect: the request was sent but no answer came back "
    "(RemoteProtocolError: Server disconnected without sending a response.). It may have "
    "landed; run plan to see the dataview as it is now before applying again."
)


@pytest.mark.parametrize(("mode", "message"), [("503", ADD_503), ("drop", ADD_DROP)])
def test_an_add_that_may_have_landed_is_not_repeated(
    sandbox_factory: SandboxFactory, mode: str, message: str
) -> None:
    sandbox = sandbox_factory(commit_then_fail_every=1, commit_then_fail_mode=mode)
    sandbox.store.ensure_dataviews([REF])
    log = SleepLog()

    async def add() -> None:
        async with client_for(sandbox, log) as client:
            await client.add_export(REF, s3_body("monthly.csv", key="monthly"), key="monthly")

    with pytest.raises(MaybeLandedError) as caught:
        run(add())
    assert caught.value.message == message
    assert (caught.value.method, caught.value.scope, caught.value.key) == (
        "POST",
        "1/1/1/1",
        "monthly",
    )
    assert log.delays == []  # never resent
    sandbox.set_faults(commit_then_fail_every=0)

    async def listing() -> list[dict[str, Any]]:
        async with client_for(sandbox, log) as client:
            return await client.list_exports(REF)

    records = run(listing())
    assert len(records) == 1  # it did land, exactly once
    assert records[0]["additional_properties"]["exportctl"]["key"] == "monthly"


def test_an_edit_and_a_patch_that_may_have_landed_raise_too(
    sandbox_factory: SandboxFactory,
) -> None:
    sandbox = sandbox_factory()
    [export_id] = add_exports(sandbox.store, REF, [s3_body("a.csv")])
    sandbox.set_faults(commit_then_fail_every=1, commit_then_fail_mode="drop")
    log = SleepLog()

    async def edit_and_suspend() -> list[str]:
        methods = []
        async with client_for(sandbox, log) as client:
            for change in (
                client.edit_export(REF, export_id, s3_body("b.csv")),
                client.patch_export(REF, export_id, "suspend"),
            ):
                try:
                    await change
                except MaybeLandedError as error:
                    methods.append(str(error.method))
        return methods

    assert run(edit_and_suspend()) == ["POST", "PATCH"]
    sandbox.set_faults(commit_then_fail_every=0)

    async def listing() -> list[dict[str, Any]]:
        async with client_for(sandbox, log) as client:
            return await client.list_exports(REF)

    [record] = run(listing())
    assert record["target_properties"]["file"] == "b.csv"
    assert record["status"] in ("suspended", "suspending")


def test_a_delete_retried_after_it_landed_reports_already_gone(
    sandbox_factory: SandboxFactory,
) -> None:
    sandbox = sandbox_factory()
    [export_id] = add_exports(sandbox.store, REF, [s3_body("a.csv")])
    sandbox.set_faults(commit_then_fail_every=1)
    log = SleepLog()

    async def delete() -> MutationResult:
        async with client_for(sandbox, log) as client:
            return await client.delete_export(REF, export_id)

    result = run(delete())
    assert result.already_gone is True
    assert (result.status_code, result.trigger_id) == (404, export_id)
    assert log.delays == [1.0]  # one retry after the 503
