"""Apply under the sandbox's faults: converges, never duplicates, leaves hand-made exports."""

from typing import Any

import pytest

from tests.apply.convergence import assert_converged, unmarked
from tests.apply.helpers import REF, REF2, apply_now, desired, s3, seed, spec
from tests.sandboxes import RunningSandbox

FAULTS: dict[str, dict[str, Any]] = {
    "503s": {"error_rate": 0.2},
    "429 bursts": {"throttle_rate": 0.3, "retry_after_s": 0.02},
    "jobs": {"job_rate": 0.3, "job_delay_ms": 30},
    "commit-then-503": {"commit_then_fail_every": 10, "commit_then_fail_mode": "503"},
    "commit-then-drop": {"commit_then_fail_every": 10, "commit_then_fail_mode": "drop"},
    "everything": {
        "error_rate": 0.1,
        "throttle_rate": 0.1,
        "retry_after_s": 0.02,
        "job_rate": 0.3,
        "job_delay_ms": 30,
        "commit_then_fail_every": 7,
        "commit_then_fail_mode": "drop",
    },
}

FIRST = desired(
    (REF, [s3(f"a{i}", f"a{i}.csv") for i in range(6)]),
    (REF2, [s3(f"b{i}", f"b{i}.csv") for i in range(4)]),
)
# Edits, deletes, a replace, suspensions and adds, across both dataviews.
SECOND = desired(
    (
        REF,
        [
            s3("a0", "a0-v2.csv"),
            s3("a1", "a1.csv", suspended=True),
            spec("a2", "internal_dataset", {"dataset_name": "a2"}),
            s3("a3", "a3.csv"),
            *(s3(f"n{i}", f"n{i}.csv") for i in range(6)),
        ],
    ),
    (
        REF2,
        [
            s3("b0", "b0.csv", end_of_pipeline=False, sequence=1),
            *(s3(f"m{i}", f"m{i}.csv") for i in range(4)),
        ],
    ),
)
HAND_MADE = {
    "handler_type": "s3",
    "trigger_type": "none",
    "target_properties": {"file": "hand.csv"},
}


@pytest.mark.parametrize("knobs", FAULTS.values(), ids=FAULTS.keys())
def test_apply_converges_under_faults_without_duplicates(
    server: RunningSandbox, knobs: dict[str, Any]
) -> None:
    seed(server.base_url, REF, [HAND_MADE])
    before = unmarked(server.base_url, FIRST)
    server.set_faults(seed=7, **knobs)
    for state in (FIRST, SECOND):
        results = [apply_now(server.base_url, state) for _ in range(3)]
        assert results[-1].ok, [
            a.message for r in results for a in r.actions() if a.outcome.value == "failed"
        ]
        assert_converged(server.base_url, state)
    server.set_faults(error_rate=0, throttle_rate=0, job_rate=0, commit_then_fail_every=0)
    assert_converged(server.base_url, SECOND)
    assert unmarked(server.base_url, SECOND) == before
