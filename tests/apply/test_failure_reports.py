"""What a failed apply tells the user, checked against the real sandbox."""

import asyncio
import io
from typing import Any

import jsonschema
import pytest

from reconciler._resources import load_schema
from reconciler.apply.engine import ApplyOptions, apply_plan
from reconciler.apply.result import (
    ActionResult,
    ApplyResult,
    Failure,
    Outcome,
    PreflightFailure,
    ScopeResult,
)
from reconciler.apply.result_json import result_to_json
from reconciler.errors import (
    ApiError,
    ApiUnreachableError,
    AuthError,
    ExportctlError,
    JobFailedError,
    MaybeLandedError,
    NotFoundError,
)
from reconciler.model import DesiredState
from reconciler.plan import Action
from reconciler.progress import LineProgress
from reconciler.providers.mammoth.sandbox.jobs import INJECTED_FAILURE
from reconciler.providers.mammoth.sandbox.seed import add_exports
from reconciler.render.apply_report import render_result_text
from tests.apply.helpers import (
    FAST,
    REF,
    apply_now,
    desired,
    live_exports,
    plan_now,
    provider,
    providers,
    s3,
    spec,
)
from tests.sandboxes import RunningSandbox


def test_a_failed_job_reports_the_servers_failure_reason(server: RunningSandbox) -> None:
    server.set_faults(job_rate=1, job_delay_ms=0, job_failure_rate=1)

    result = apply_now(server.base_url, desired((REF, [s3("a", "a.csv")])))

    [action] = list(result.actions())
    assert action.message == f"failed: job 1 for add a on dataview {REF} failed: " + (
        f"the server reported failure: {INJECTED_FAILURE}"
    )


def _preflight_now(server: RunningSandbox, state: DesiredState, **faults: float) -> ApplyResult:
    """Plan on a healthy sandbox, then apply with ``faults`` on."""
    plan = plan_now(server.base_url, state)
    server.set_faults(**faults)

    async def run() -> ApplyResult:
        async with provider(server.base_url) as api:
            return await apply_plan(
                providers(api),
                plan,
                options=ApplyOptions(execute=FAST),
                progress=LineProgress(io.StringIO()),
            )

    return asyncio.run(run())


def _report(result: ApplyResult) -> tuple[dict[str, Any], list[str]]:
    """The JSON document, checked against its schema, and the text summary's lines."""
    document = result_to_json(result)
    jsonschema.Draft202012Validator(load_schema("apply-result.schema.json")).validate(document)
    return document, render_result_text(document).splitlines()


def test_a_dry_run_the_api_never_answers_is_not_reported_as_a_refusal(
    server: RunningSandbox,
) -> None:
    result = _preflight_now(server, desired((REF, [s3("a", "a.csv")])), error_rate=1)

    [failure] = result.preflight_failures
    assert (failure.key, failure.status_code, failure.failure, failure.detail) == (
        "a",
        503,
        Failure.TRANSIENT,
        "the API gave no answer to the dry run in 4 tries (last: HTTP 503); "
        "a dry run changes nothing, so try again later",
    )
    server.set_faults(error_rate=0)
    assert live_exports(server.base_url, REF) == []


@pytest.mark.parametrize(
    ("faults", "status"),
    [({"error_rate": 1}, 503), ({"throttle_rate": 1}, 429)],
    ids=["busy", "throttled"],
)
def test_dry_runs_without_a_verdict_advise_applying_again_later(
    server: RunningSandbox, faults: dict[str, float], status: int
) -> None:
    state = desired((REF, [s3("a", "a.csv"), s3("b", "b.csv")]))

    document, lines = _report(_preflight_now(server, state, **faults))

    assert [(f["key"], f["status_code"], f["failure"]) for f in document["preflight_failures"]] == [
        ("a", status, "transient"),
        ("b", status, "transient"),
    ]
    assert (lines[0], lines[-1]) == (
        "Preflight failed: the server gave no verdict on 2 changes sent with validate_only. "
        "Nothing was changed.",
        "Nothing was refused, so there is nothing to fix: run exportctl apply again later.",
    )


def test_a_refused_dry_run_still_says_fix_the_manifest(server: RunningSandbox) -> None:
    pg = spec(
        "pg", "powerbi", {"connection_id": "nowhere", "dataset_name": "d", "table_name": "pg"}
    )

    document, lines = _report(_preflight_now(server, desired((REF, [pg]))))

    [failure] = document["preflight_failures"]
    assert (failure["status_code"], failure["failure"]) == (400, "refused")
    assert (lines[0], lines[-1]) == (
        "Preflight failed: the server refused 1 change sent with validate_only. "
        "Nothing was changed.",
        "Fix the manifest (or the platform) and run exportctl apply again.",
    )


def _preflight(key: str, status: int | None, failure: Failure, detail: str) -> PreflightFailure:
    return PreflightFailure(REF.scope, key, Action.ADD, status, detail, failure)


def test_a_mix_of_refused_and_unanswered_dry_runs_says_both() -> None:
    result = ApplyResult(
        (),
        (
            _preflight("a", 422, Failure.REFUSED, "'nowhere' is not a known connection"),
            _preflight("b", None, Failure.TRANSIENT, "the API gave no answer to the dry run"),
            _preflight("c", 429, Failure.TRANSIENT, "too many requests"),
        ),
    )

    assert _report(result)[1] == [
        "Preflight failed: the server refused 1 change and gave no verdict on 2 changes sent "
        "with validate_only. Nothing was changed.",
        "  dataview 1/1/123/456: a (422): 'nowhere' is not a known connection",
        "  dataview 1/1/123/456: b: the API gave no answer to the dry run",
        "  dataview 1/1/123/456: c (429): too many requests",
        "The server refused 1 change (a): fix the manifest (or the platform) first. "
        "The others got no verdict and may pass when you run exportctl apply again.",
    ]


def test_a_failed_job_is_a_refusal_and_the_summary_says_a_rerun_will_not_help(
    server: RunningSandbox,
) -> None:
    server.set_faults(job_rate=1, job_delay_ms=0, job_failure_rate=1)

    result = apply_now(server.base_url, desired((REF, [s3("a", "a.csv")])))

    [action] = list(result.actions())
    assert action.failure is Failure.REFUSED
    assert render_result_text(result_to_json(result)).splitlines()[-1] == (
        "The server refused this change, so rerunning alone will not help: fix the manifest "
        "(or the platform) first, then run exportctl apply again."
    )


def test_a_busy_api_is_transient_and_the_summary_says_apply_again(server: RunningSandbox) -> None:
    marked = {"exportctl": {"key": "old", "applied": "h"}}
    add_exports(server.store, REF, [{**s3_body("old.csv"), "additional_properties": marked}])
    plan = plan_now(server.base_url, desired((REF, [])))
    server.set_faults(error_rate=1)  # deletes have no preflight: the run reaches the delete

    async def run() -> ApplyResult:
        async with provider(server.base_url) as api:
            options = ApplyOptions(execute=FAST)
            return await apply_plan(
                providers(api), plan, options=options, progress=LineProgress(io.StringIO())
            )

    result = asyncio.run(run())

    [action] = list(result.actions())
    assert (action.action, action.outcome, action.failure) == (
        Action.DELETE,
        Outcome.FAILED,
        Failure.TRANSIENT,
    )
    assert render_result_text(result_to_json(result)).splitlines()[-1] == (
        "Run exportctl apply again to finish: it plans only what is left."
    )


def s3_body(file: str) -> dict[str, Any]:
    return {"handler_type": "s3", "trigger_type": "none", "target_properties": {"file": file}}


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (ApiError("bad field", status_code=400), Failure.REFUSED),
        (ApiError("unknown connection", status_code=422), Failure.REFUSED),
        (AuthError("no permission", status_code=403), Failure.REFUSED),
        (JobFailedError("job 3 for add a failed: the server reported failure"), Failure.REFUSED),
        (NotFoundError("export 9 gone since it was listed", status_code=404), Failure.TRANSIENT),
        (ApiError("throttled", status_code=429), Failure.TRANSIENT),
        (ApiError("busy after 8 attempts", status_code=503), Failure.TRANSIENT),
        (MaybeLandedError("may have landed", status_code=502), Failure.TRANSIENT),
        (ApiError("job 4 did not finish within 10s"), Failure.TRANSIENT),
        (ApiUnreachableError("connection refused"), Failure.TRANSIENT),
    ],
)
def test_failures_are_judged_by_status_or_failed_job(
    error: ExportctlError, failure: Failure
) -> None:
    assert Failure.of(error) is failure


def _failed(key: str, failure: Failure, message: str) -> ActionResult:
    return ActionResult(REF.scope, key, Action.ADD, "s3", Outcome.FAILED, message, failure=failure)


def test_a_mix_of_refused_and_transient_failures_says_both() -> None:
    result = ApplyResult(
        (
            ScopeResult(
                REF.scope,
                (
                    _failed("a", Failure.REFUSED, "failed: the API answered 400: bad file"),
                    _failed("b", Failure.TRANSIENT, "failed: the API answered 503 (busy)"),
                    _failed("c", Failure.REFUSED, "failed: job 2 for add c failed"),
                ),
            ),
        )
    )

    assert render_result_text(result_to_json(result)).splitlines()[-5:] == [
        "Failed:",
        "  dataview 1/1/123/456: + a (s3) failed: the API answered 400: bad file",
        "  dataview 1/1/123/456: + b (s3) failed: the API answered 503 (busy)",
        "  dataview 1/1/123/456: + c (s3) failed: job 2 for add c failed",
        "The server refused 2 changes (a, c), so rerunning alone will not help them: fix the "
        "manifest (or the platform) first. The others may pass when you run exportctl apply "
        "again: it plans only what is left.",
    ]
    assert [a["failure"] for a in result_to_json(result)["scopes"][0]["actions"]] == [
        "refused",
        "transient",
        "refused",
    ]
