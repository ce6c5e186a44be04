"""The engine against the sandbox: order, preflight, failures, fail-fast, refusals."""

import io
import re
from pathlib import Path

import pytest

from reconciler.apply.engine import SKIPPED_PREFLIGHT
from reconciler.apply.execute import SKIPPED_AFTER_FAILURE, SKIPPED_FAIL_FAST
from reconciler.apply.result import Outcome
from reconciler.errors import ApplyRefusedError
from reconciler.model import Prune
from reconciler.plan import Action
from reconciler.providers.mammoth.model import DataviewRef
from tests.apply.helpers import (
    FAST,
    REF,
    REF2,
    apply_now,
    desired,
    dump,
    live_exports,
    plan_now,
    s3,
    seed,
    spec,
)
from tests.sandboxes import RunningSandbox


def test_apply_converges_and_reports_one_line_per_change(server: RunningSandbox) -> None:
    seed(
        server.base_url,
        REF,
        [
            {
                "handler_type": "s3",
                "trigger_type": "none",
                "target_properties": {"file": "legacy.csv"},
            }
        ],
    )
    state = desired((REF, [s3("a", "a.csv"), s3("legacy", "legacy.csv", suspended=True)]))
    log = io.StringIO()
    result = apply_now(server.base_url, state, log=log)
    assert result.ok
    assert log.getvalue().splitlines() == [
        "dataview 1/1/123/456: <= legacy (s3) adopted (marker written) export 1, "
        "suspended via job 2 [1/2]",
        "dataview 1/1/123/456: + a (s3) created as export 2 via job 4 [2/2]",
    ]
    assert not plan_now(server.base_url, state).has_changes


def test_deletes_then_edits_then_adds_so_a_freed_file_can_be_taken(server: RunningSandbox) -> None:
    apply_now(server.base_url, desired((REF, [s3("old", "old.csv"), s3("x", "x.csv")])))
    # "y" takes the file "x" moves away from: preflight, which sees today's state,
    # must leave that clash to execution, which runs the edit first.
    state = desired((REF, [s3("y", "x.csv"), s3("x", "x2.csv")]))
    log = io.StringIO()
    result = apply_now(server.base_url, state, log=log)
    assert result.ok
    assert [line.split(": ", 1)[1] for line in log.getvalue().splitlines()] == [
        "- old (s3) deleted export 1 via job 3 [1/3]",
        "~ x (s3) updated export 2 via job 4 [2/3]",
        "+ y (s3) created as export 3 via job 5 [3/3]",
    ]


def test_preflight_failure_reports_every_refusal_and_mutates_nothing(
    server: RunningSandbox, tmp_path: Path
) -> None:
    apply_now(server.base_url, desired((REF, [s3("a", "a.csv")])))
    seed(
        server.base_url,
        REF,
        [
            {
                "handler_type": "s3",
                "trigger_type": "none",
                "target_properties": {"file": "taken.csv"},
            }
        ],
    )
    before = dump(tmp_path / "sandbox.db")
    state = desired(
        (REF, [s3("a", "taken.csv"), s3("b", "b.csv")]),
        (
            REF2,
            [
                spec(
                    "pg",
                    "powerbi",
                    {"connection_id": "nowhere", "dataset_name": "d", "table_name": "pg"},
                )
            ],
        ),
    )
    result = apply_now(server.base_url, state)
    assert dump(tmp_path / "sandbox.db") == before
    assert not result.ok
    assert [(f.scope, f.key, f.status_code) for f in result.preflight_failures] == [
        (REF.scope, "a", 400),
        (REF2.scope, "pg", 400),
    ]
    assert "taken.csv" in result.preflight_failures[0].detail
    assert "'nowhere' is not a known connection" in result.preflight_failures[1].detail
    assert {(a.outcome, a.message) for a in result.actions()} == {
        (Outcome.SKIPPED, SKIPPED_PREFLIGHT)
    }


def test_a_failure_skips_the_rest_of_its_dataview_but_not_the_others(
    server: RunningSandbox,
) -> None:
    server.set_faults(job_rate=1.0, job_failure_rate=1.0, seed=1)
    state = desired((REF, [s3("a", "a.csv"), s3("b", "b.csv")]), (REF2, [s3("c", "c.csv")]))
    result = apply_now(server.base_url, state, execute=FAST)
    outcomes = {(DataviewRef.of(a.scope), a.key): (a.outcome, a.message) for a in result.actions()}
    assert not result.ok
    assert outcomes[(REF, "a")][0] is Outcome.FAILED
    # Job ids depend on which dataview asked first; the rest of the text does not.
    assert re.fullmatch(
        r"failed: job \d+ for add a on dataview 1/1/123/456 failed: the server reported "
        r"failure: .+",
        outcomes[(REF, "a")][1],
    )
    assert outcomes[(REF, "b")] == (Outcome.SKIPPED, SKIPPED_AFTER_FAILURE)
    assert outcomes[(REF2, "c")][0] is Outcome.FAILED  # tried: another dataview
    server.set_faults(job_rate=0.0, job_failure_rate=0.0)
    assert apply_now(server.base_url, state).ok
    assert not plan_now(server.base_url, state).has_changes


def test_fail_fast_skips_work_not_yet_started(server: RunningSandbox) -> None:
    server.set_faults(job_rate=1.0, job_failure_rate=1.0, seed=1)
    state = desired((REF, [s3("a", "a.csv"), s3("b", "b.csv")]), (REF2, [s3("c", "c.csv")]))
    options = FAST.__class__(**{**FAST.__dict__, "parallelism": 1, "fail_fast": True})
    result = apply_now(server.base_url, state, execute=options)
    assert [(a.key, a.outcome, a.message.split(":")[0]) for a in result.actions()] == [
        ("a", Outcome.FAILED, "failed"),
        ("b", Outcome.SKIPPED, "skipped"),
        ("c", Outcome.SKIPPED, "skipped"),
    ]
    assert result.actions()[2].message == SKIPPED_FAIL_FAST
    assert live_exports(server.base_url, REF2) == []


@pytest.mark.parametrize("max_deletes", [0, 1])
def test_max_deletes_refuses_before_anything_is_sent(
    server: RunningSandbox, tmp_path: Path, max_deletes: int
) -> None:
    apply_now(server.base_url, desired((REF, [s3("a", "a.csv"), s3("b", "b.csv")])))
    before = dump(tmp_path / "sandbox.db")
    with pytest.raises(ApplyRefusedError, match=r"the plan deletes 2 exports"):
        apply_now(server.base_url, desired((REF, [])), max_deletes=max_deletes)
    assert dump(tmp_path / "sandbox.db") == before


def test_protect_refuses_a_replace_before_anything_is_sent(
    server: RunningSandbox, tmp_path: Path
) -> None:
    apply_now(server.base_url, desired((REF, [s3("a", "a.csv")])))
    before = dump(tmp_path / "sandbox.db")
    replaced = spec("a", "internal_dataset", {"dataset_name": "a"}, protect=True)
    plan = plan_now(server.base_url, desired((REF, [replaced])))
    assert [c.action for _, c in plan.changes()] == [Action.REPLACE]
    with pytest.raises(ApplyRefusedError, match=r"would delete a protected export"):
        apply_now(server.base_url, desired((REF, [replaced])))
    assert dump(tmp_path / "sandbox.db") == before


def test_prune_all_deletes_unmarked_exports_and_managed_leaves_them(
    server: RunningSandbox,
) -> None:
    seed(
        server.base_url,
        REF,
        [{"handler_type": "s3", "trigger_type": "none", "target_properties": {"file": "hand.csv"}}],
    )
    assert apply_now(server.base_url, desired((REF, [s3("a", "a.csv")]))).ok
    assert sorted(e.target_properties["file"] for e in live_exports(server.base_url, REF)) == [
        "a.csv",
        "hand.csv",
    ]
    assert apply_now(server.base_url, desired((REF, [s3("a", "a.csv")]), prune=Prune.ALL)).ok
    assert [e.target_properties["file"] for e in live_exports(server.base_url, REF)] == ["a.csv"]
