"""Snapshots: run when missing, stale or failed; wait for one in progress; prune beyond keep."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import LiveRun, LiveScope, RunState, Scope, ScopeSpec, SnapshotSpec, freeze
from reconciler.plan import Action, DriftKind
from reconciler.planner import plan_scope
from reconciler.snapshot_planner import describe_age, runs_fingerprint

SCOPE = Scope("acme", "snapshots", "account", noun="account", resource_noun="snapshot")
DAILY = freeze({"url": "/v3/domains"})
OTHER = freeze({"url": "/v3/bounces"})
HOUR = 3600.0


def snapshot(key: str = "domains", request: object = DAILY, **fields: object) -> SnapshotSpec:
    values: dict[str, object] = {"max_age_s": 6 * HOUR, **fields}
    return SnapshotSpec(key, "csv", freeze(request), **values)


def run(
    run_id: str, state: RunState, age_h: float, request: object = DAILY, **extra: object
) -> LiveRun:
    return LiveRun(run_id, freeze(request), state, age_h * HOUR, **extra)


def plan(
    *runs: LiveRun, entries: tuple[SnapshotSpec, ...] = ()
) -> list[tuple[Action, str, str | None]]:
    spec = ScopeSpec(SCOPE, snapshots=entries or (snapshot(),))
    result = plan_scope(spec, LiveScope(SCOPE, runs=runs))
    return [(c.action, c.key, c.resource_id) for c in result.changes]


def test_no_run_yet_plans_a_run_that_shows_its_request() -> None:
    spec = ScopeSpec(SCOPE, snapshots=(snapshot(download="out/domains.csv"),))
    (change,) = plan_scope(spec, None).changes
    assert (change.action, change.drift) == (Action.RUN, DriftKind.STALE)
    assert change.reason == "no run of this request exists yet"
    assert [(f.path, f.new) for f in change.fields] == [
        ("url", "/v3/domains"),
        ("download", "out/domains.csv"),
    ]


def test_a_young_success_is_fresh_and_an_old_one_is_stale() -> None:
    assert plan(run("r1", RunState.SUCCEEDED, 1)) == [(Action.FRESH, "domains", "r1")]
    assert plan(run("r1", RunState.SUCCEEDED, 7)) == [(Action.RUN, "domains", None)]


def test_a_run_in_progress_is_waited_for_not_doubled() -> None:
    runs = (run("r1", RunState.SUCCEEDED, 9), run("r2", RunState.RUNNING, 0.1))
    assert plan(*runs) == [(Action.WAIT, "domains", "r2")]


def test_a_failed_latest_run_is_run_again_and_reported_as_failed() -> None:
    spec = ScopeSpec(SCOPE, snapshots=(snapshot(),))
    live = LiveScope(SCOPE, runs=(run("r1", RunState.FAILED, 0.5, failure="disk full"),))
    (change,) = plan_scope(spec, live).changes
    assert (change.action, change.drift) == (Action.RUN, DriftKind.FAILED)
    assert change.reason == "the latest run (r1) failed: disk full; apply starts a new one"


def test_expired_runs_are_never_fresh() -> None:
    spec = ScopeSpec(SCOPE, snapshots=(snapshot(),))
    live = LiveScope(SCOPE, runs=(run("r1", RunState.EXPIRED, 25),))
    (change,) = plan_scope(spec, live).changes
    assert change.reason == "every earlier run has expired on the server"


def test_runs_of_another_request_are_not_this_snapshots() -> None:
    assert plan(run("r1", RunState.SUCCEEDED, 1, request=OTHER)) == [(Action.RUN, "domains", None)]


def test_an_exclusive_run_makes_every_entry_of_the_scope_wait() -> None:
    entries = (snapshot("a"), snapshot("b", request=OTHER))
    busy = run("r9", RunState.RUNNING, 0.1, request={"url": "/v3/events"}, exclusive=True)
    assert plan(busy, entries=entries) == [(Action.WAIT, "a", "r9"), (Action.WAIT, "b", "r9")]


def test_keep_prunes_the_oldest_successes_counting_the_run_about_to_start() -> None:
    runs = tuple(run(f"r{i}", RunState.SUCCEEDED, 10 + i) for i in range(4))
    assert plan(*runs, entries=(snapshot(keep=2),)) == [
        (Action.RUN, "domains", None),
        (Action.DELETE, "domains", "r1"),
        (Action.DELETE, "domains", "r2"),
        (Action.DELETE, "domains", "r3"),
    ]
    fresh = (run("new", RunState.SUCCEEDED, 1), *runs)
    assert plan(*fresh, entries=(snapshot(keep=2),))[0] == (Action.FRESH, "domains", "new")
    assert len(plan(*fresh, entries=(snapshot(keep=2),))) == 1 + 3


def test_a_finishing_run_does_not_make_a_saved_plan_stale() -> None:
    before = runs_fingerprint([run("r1", RunState.RUNNING, 0.1)])
    assert runs_fingerprint([run("r1", RunState.SUCCEEDED, 0.2)]) == before
    assert (
        runs_fingerprint([run("r1", RunState.SUCCEEDED, 0.2), run("r2", RunState.RUNNING, 0)])
        != before
    )


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(list(RunState)), st.floats(0, 48), st.booleans()),
        max_size=6,
    ),
    st.none() | st.integers(1, 3),
)
def test_after_a_run_succeeds_the_plan_has_nothing_to_do(
    listed: list[tuple[RunState, float, bool]], keep: int | None
) -> None:
    """Apply then plan gives no changes: the new run is fresh and the prunes are done."""
    entry = snapshot(keep=keep)
    runs = [
        run(f"r{i}", state, age, request=DAILY if mine else OTHER)
        for i, (state, age, mine) in enumerate(listed)
    ]
    spec = ScopeSpec(SCOPE, snapshots=(entry,))
    first = plan_scope(spec, LiveScope(SCOPE, runs=tuple(runs))).changes
    deleted = {c.resource_id for c in first if c.action is Action.DELETE}
    after = [r for r in runs if r.run_id not in deleted and r.state is not RunState.RUNNING]
    if any(c.action in (Action.RUN, Action.WAIT) for c in first):
        after.append(run("new", RunState.SUCCEEDED, 0))
    again = plan_scope(spec, LiveScope(SCOPE, runs=tuple(after))).changes
    assert [c.action for c in again if c.action.is_change] == []


def test_ages_read_as_people_say_them() -> None:
    assert [describe_age(s) for s in (5, 600, 3 * HOUR + 120, 50 * HOUR, None)] == [
        "5s",
        "10m",
        "3h 2m",
        "2d 2h",
        "unknown",
    ]


def test_runs_sharing_an_id_still_fingerprint() -> None:
    twins = [run("r1", RunState.SUCCEEDED, 1), run("r1", RunState.SUCCEEDED, 1, request=OTHER)]
    assert runs_fingerprint(twins) == runs_fingerprint(list(reversed(twins)))
