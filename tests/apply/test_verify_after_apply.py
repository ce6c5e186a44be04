"""Apply says done only when a fresh listing agrees: no copy left behind, none promised away.

Over a real socket against the sandbox started with idempotency keys ignored
(the re-list path: a server that does not echo the key): an add whose answer
is lost while its job is still running (so the look that follows cannot see
it) is sent again; the check after the scope finds the late copy and removes
it. Two or three applies of one manifest at once leave one export per key,
against a sandbox that ignores keys and one that honours them.
"""

from __future__ import annotations

import threading

import pytest

from reconciler.apply.result import ApplyResult
from reconciler.model import DesiredState
from tests.apply.convergence import assert_converged, duplicate_keys
from tests.apply.helpers import REF, apply_now, desired, live_exports, s3, spec
from tests.sandboxes import RunningSandbox

STATE = desired((REF, [s3(f"k{i}", f"k{i}.csv") for i in range(3)]))
# csv_file destinations are not unique on the server: a second copy is accepted.
COPYABLE = desired((REF, [spec(f"c{i}", "csv_file", {"file": f"c{i}.csv"}) for i in range(3)]))


# Every second write's answer is dropped, and jobs take longer than the look
# that follows a lost answer: the add is sent again while the first still runs.
SLOW_AND_LOSSY = {
    "ignore_idempotency_keys": True,
    "job_rate": 1,
    "job_delay_ms": 300,
    "commit_then_fail_every": 2,
    "commit_then_fail_mode": "drop",
}
CALM = {"job_rate": 0, "commit_then_fail_every": 0, "latency_ms": 0}


def test_with_keys_honoured_a_lost_answer_is_resent_and_makes_no_copy(
    server: RunningSandbox,
) -> None:
    server.set_faults(**{**SLOW_AND_LOSSY, "ignore_idempotency_keys": False})
    result = apply_now(server.base_url, COPYABLE)
    messages = [a.message for a in result.actions()]
    assert result.ok, messages
    assert not any("copy" in m for m in messages), messages
    server.set_faults(**CALM)
    assert duplicate_keys(server.base_url, COPYABLE) == []
    assert_converged(server.base_url, COPYABLE)


def test_a_lost_answer_whose_job_lands_late_leaves_no_copy(server: RunningSandbox) -> None:
    server.set_faults(**SLOW_AND_LOSSY)
    result = apply_now(server.base_url, COPYABLE)
    messages = [a.message for a in result.actions()]
    assert result.ok, messages
    server.set_faults(**CALM)
    assert duplicate_keys(server.base_url, COPYABLE) == []
    assert_converged(server.base_url, COPYABLE)
    assert any("a copy left by an answer that was lost" in m for m in messages), messages


def test_a_second_copy_the_server_refuses_is_no_failure(server: RunningSandbox) -> None:
    server.set_faults(**SLOW_AND_LOSSY)
    result = apply_now(server.base_url, STATE)
    messages = [a.message for a in result.actions()]
    assert result.ok, messages
    assert any("the server refused a second copy" in m for m in messages), messages
    server.set_faults(**CALM)
    assert_converged(server.base_url, STATE)


def test_when_every_answer_is_lost_apply_fails_and_a_rerun_converges(
    server: RunningSandbox,
) -> None:
    server.set_faults(**{**SLOW_AND_LOSSY, "commit_then_fail_every": 1})
    first = apply_now(server.base_url, COPYABLE)
    assert not first.ok
    server.set_faults(**CALM)
    reruns = [apply_now(server.base_url, COPYABLE) for _ in range(2)]
    assert reruns[-1].ok, [a.message for r in reruns for a in r.actions()]
    assert duplicate_keys(server.base_url, COPYABLE) == []
    assert_converged(server.base_url, COPYABLE)


def _at_once(base_url: str, state: DesiredState, count: int) -> list[ApplyResult]:
    """``count`` applies of ``state``, started together in threads of their own."""
    results: list[ApplyResult] = []
    start = threading.Barrier(count)

    def one_apply() -> None:
        start.wait()
        results.append(apply_now(base_url, state))

    threads = [threading.Thread(target=one_apply) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("keys_ignored", [True, False], ids=["keys-ignored", "keys-honoured"])
@pytest.mark.parametrize("state", [STATE, COPYABLE], ids=["unique-destinations", "copyable"])
@pytest.mark.parametrize("count", [2, 3])
def test_applies_at_once_leave_one_export_per_key(
    server: RunningSandbox, state: DesiredState, count: int, keys_ignored: bool
) -> None:
    server.set_faults(
        latency_ms=20, job_rate=0.5, job_delay_ms=40, ignore_idempotency_keys=keys_ignored
    )
    results = _at_once(server.base_url, state, count)
    server.set_faults(**CALM)
    messages = [a.message for r in results for a in r.actions()]
    assert [r.ok for r in results] == [True] * count, messages
    assert duplicate_keys(server.base_url, state) == []
    assert len(live_exports(server.base_url, REF)) == 3
    assert_converged(server.base_url, state)
