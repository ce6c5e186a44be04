"""What a failed apply tells the user, checked against the real sandbox."""

from reconciler.sandbox.jobs import INJECTED_FAILURE
from reconciler.sandbox.server import RunningSandbox
from tests.apply.helpers import REF, apply_now, desired, s3


def test_a_failed_job_reports_the_servers_failure_reason(server: RunningSandbox) -> None:
    server.set_faults(job_rate=1, job_delay_ms=0, job_failure_rate=1)

    result = apply_now(server.base_url, desired((REF, [s3("a", "a.csv")])))

    [action] = list(result.actions())
    assert action.message == f"failed: job 1 for add a on dataview {REF} failed: " + (
        f"the server reported failure: {INJECTED_FAILURE}"
    )
