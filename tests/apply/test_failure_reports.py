"""What a failed apply tells the user, checked against the real sandbox."""

import asyncio
import io

from reconciler.apply.engine import ApplyOptions, apply_plan
from reconciler.apply.result import ApplyResult
from reconciler.progress import LineProgress
from reconciler.sandbox.jobs import INJECTED_FAILURE
from reconciler.sandbox.server import RunningSandbox
from tests.apply.helpers import (
    FAST,
    REF,
    apply_now,
    client,
    desired,
    live_exports,
    plan_now,
    s3,
)


def test_a_failed_job_reports_the_servers_failure_reason(server: RunningSandbox) -> None:
    server.set_faults(job_rate=1, job_delay_ms=0, job_failure_rate=1)

    result = apply_now(server.base_url, desired((REF, [s3("a", "a.csv")])))

    [action] = list(result.actions())
    assert action.message == f"failed: job 1 for add a on dataview {REF} failed: " + (
        f"the server reported failure: {INJECTED_FAILURE}"
    )


def test_a_dry_run_the_api_never_answers_is_not_reported_as_a_refusal(
    server: RunningSandbox,
) -> None:
    state = desired((REF, [s3("a", "a.csv")]))
    plan = plan_now(server.base_url, state)
    server.set_faults(error_rate=1)

    async def run() -> ApplyResult:
        async with client(server.base_url) as api:
            return await apply_plan(
                api, plan, options=ApplyOptions(execute=FAST), progress=LineProgress(io.StringIO())
            )

    result = asyncio.run(run())

    [failure] = result.preflight_failures
    assert (failure.key, failure.status_code, failure.detail) == (
        "a",
        503,
        "the API gave no answer to the dry run in 4 tries (last: HTTP 503); "
        "a dry run changes nothing, so try again later",
    )
    server.set_faults(error_rate=0)
    assert live_exports(server.base_url, REF) == []
