"""Order of one scope's steps: runs, then deletes, edits, then adds in plan order."""

from reconciler.apply.steps import Phase, order_steps
from reconciler.model import Scope
from reconciler.plan import Action, Change, ScopePlan

REF = Scope("acme", "things", "a/1")


def _change(action: Action, key: str) -> Change:
    return Change(action=action, key=key, type="s3", resource_id=None, reason="")


def test_deletes_then_edits_then_adds_keeping_plan_order_within_a_phase() -> None:
    plan = ScopePlan(
        REF,
        (
            _change(Action.ADD, "a1"),
            _change(Action.EDIT, "e1"),
            _change(Action.REPLACE, "r1"),
            _change(Action.NOOP, "n1"),
            _change(Action.ADD, "a2"),
            _change(Action.ADOPT, "o1"),
            _change(Action.UNMANAGED, "u1"),
            _change(Action.DELETE, "d1"),
        ),
    )
    order = [(s.phase, s.change.key) for s in order_steps(plan)]
    assert order == [
        (Phase.DELETE, "r1"),
        (Phase.DELETE, "d1"),
        (Phase.EDIT, "e1"),
        (Phase.EDIT, "o1"),
        (Phase.ADD, "a1"),
        (Phase.ADD, "r1"),
        (Phase.ADD, "a2"),
    ]


def test_a_replace_is_complete_only_after_its_add_half() -> None:
    steps = order_steps(ScopePlan(REF, (_change(Action.REPLACE, "r"),)))
    assert [s.is_last_of_change for s in steps] == [False, True]


def test_records_take_no_step() -> None:
    plan = ScopePlan(REF, (_change(Action.NOOP, "n"), _change(Action.UNMANAGED, "u")))
    assert order_steps(plan) == ()


def test_snapshot_runs_come_before_the_prunes_they_make_safe() -> None:
    plan = ScopePlan(REF, (_change(Action.DELETE, "old"), _change(Action.RUN, "daily")))
    assert [(s.change.key, s.phase) for s in order_steps(plan)] == [
        ("daily", Phase.RUN),
        ("old", Phase.DELETE),
    ]
