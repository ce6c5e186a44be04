"""The declarative planner through a kind that is not Mammoth's (the tests' Acme widgets).

Mammoth's own cases are in ``tests/providers/mammoth/planner``; these pin what
every provider gets from the core alone: matching by marker, adoption by
natural address, and a replace where the kind says the API cannot change a
resource in place, even for one being adopted.
"""

from __future__ import annotations

from reconciler.identity import MARKER_FIELD, marker_for
from reconciler.model import LiveScope, Prune, ScopeSpec, freeze
from reconciler.plan import Action
from reconciler.planner import plan_scope
from tests.providers.acme.plugin import KIND, WIDGETS, ListedWidget, WidgetSpec

SALT = "00ff00ff00ff00ff"


def listed(
    widget_id: str, spec: WidgetSpec, *, marked: bool = True, **changed: str
) -> ListedWidget:
    labels = {MARKER_FIELD: marker_for(spec.key, False, KIND.normalize_desired(spec), SALT)}
    fields = {"name": spec.name, "shape": spec.shape, "color": spec.color, **changed}
    return ListedWidget(widget_id, labels=freeze(labels if marked else {}), **fields)


def plan(
    *desired: WidgetSpec, live: tuple[ListedWidget, ...] = (), prune: Prune = Prune.MANAGED
) -> list[tuple[Action, str, str | None]]:
    spec = ScopeSpec(WIDGETS, desired, prune, kind=KIND)
    return [
        (c.action, c.key, c.resource_id) for c in plan_scope(spec, LiveScope(WIDGETS, live)).changes
    ]


DOOR = WidgetSpec("door", "front-door", "square", "red")


def test_a_marked_widget_as_written_is_a_no_op_and_a_hand_edit_an_edit() -> None:
    assert plan(DOOR, live=(listed("1", DOOR),)) == [(Action.NOOP, "door", "1")]
    assert plan(DOOR, live=(listed("1", DOOR, color="blue"),)) == [(Action.EDIT, "door", "1")]


def test_an_unmarked_widget_of_the_same_name_is_adopted() -> None:
    assert plan(DOOR, live=(listed("7", DOOR, marked=False),)) == [(Action.ADOPT, "door", "7")]


def test_adopting_a_widget_the_api_cannot_reshape_is_a_replace() -> None:
    round_door = listed("7", DOOR, marked=False, shape="round")
    spec = ScopeSpec(WIDGETS, (DOOR,), kind=KIND)
    (change,) = plan_scope(spec, LiveScope(WIDGETS, (round_door,))).changes
    assert (change.action, change.resource_id) == (Action.REPLACE, "7")
    assert change.reason == (
        "unmanaged widget writing to the same destination, but shape changes from 'round' "
        "to 'square'; widgets cannot reshape"
    )


def test_a_renamed_key_keeps_its_widget_unless_it_must_be_replaced() -> None:
    old = WidgetSpec("old-door", "front-door", "square", "red")
    assert plan(DOOR, live=(listed("3", old),)) == [(Action.ADOPT, "door", "3")]
    reshaped = WidgetSpec("old-door", "front-door", "round", "red")
    assert plan(DOOR, live=(listed("3", reshaped),)) == [(Action.REPLACE, "door", "3")]


def test_leftovers_follow_prune_in_listed_order() -> None:
    gone = WidgetSpec("gone", "shed", "round")
    live = (listed("5", gone), listed("2", WidgetSpec("x", "hand-made", "round"), marked=False))
    assert plan(live=live) == [
        (Action.DELETE, "gone", "5"),
        (Action.UNMANAGED, "widget:hand-made", "2"),
    ]
    assert plan(live=live, prune=Prune.NONE)[0] == (Action.UNMANAGED, "gone", "5")
    assert plan(live=live, prune=Prune.ALL)[1] == (Action.DELETE, "widget:hand-made", "2")
