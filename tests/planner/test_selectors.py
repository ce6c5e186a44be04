"""--target / --exclude selectors."""

import pytest

from reconciler.errors import ConfigError
from reconciler.model import DataviewRef, DataviewSpec, DesiredState, LiveDataview
from reconciler.planner import make_plan
from reconciler.selectors import Selector, parse_selector, select_dataviews, select_plan
from tests.planner.builders import REF, live, spec

OTHER = DataviewRef(1, 1, 123, 789)
DESIRED = DesiredState(
    (
        DataviewSpec(REF, (spec("a", "a.csv"), spec("b", "b.csv"))),
        DataviewSpec(OTHER, (spec("a", "a.csv", handler_type="internal_dataset"),)),
    )
)
PLAN = make_plan(DESIRED, {REF: LiveDataview(REF, (live(10, spec("a", "a.csv")),))})


def kept(targets: list[str], excludes: list[str]) -> list[tuple[int, str]]:
    return [(r.dataview_id, c.key) for r, c in select_plan(PLAN, targets, excludes).changes()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dataview=456", Selector("dataview=456", dataview_id=456)),
        ("dataview=1/1/123/456", Selector("dataview=1/1/123/456", ref=REF)),
        ("dataview=456/a", Selector("dataview=456/a", dataview_id=456, key="a")),
        ("dataview=1/1/123/456/a", Selector("dataview=1/1/123/456/a", ref=REF, key="a")),
        ("key=a", Selector("key=a", key="a")),
        ("handler=s3", Selector("handler=s3", handler="s3")),
    ],
)
def test_accepted_selector_forms(text: str, expected: Selector) -> None:
    assert parse_selector(text) == expected


FORMS = (
    "Accepted forms: dataview=ID, dataview=W/P/D/V, dataview=ID/KEY, "
    "dataview=W/P/D/V/KEY, key=KEY, handler=TYPE"
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("456", "expected NAME=VALUE"),
        ("key=", "expected NAME=VALUE"),
        ("name=x", "unknown selector 'name'"),
        ("handler=s4", "unknown handler type 's4'"),
        ("dataview=x", "a dataview is an id or W/P/D/V ids, optionally followed by /KEY"),
        ("dataview=1/2/3", "a dataview is an id or W/P/D/V ids, optionally followed by /KEY"),
        ("dataview=456/", "a dataview is an id or W/P/D/V ids, optionally followed by /KEY"),
    ],
)
def test_bad_selectors_name_the_problem_and_the_accepted_forms(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_selector(text)
    assert error.value.message == f"invalid selector {text!r}: {problem}. {FORMS}"


@pytest.mark.parametrize(
    ("targets", "excludes", "expected"),
    [
        ([], [], [(456, "a"), (456, "b"), (789, "a")]),
        (["dataview=456"], [], [(456, "a"), (456, "b")]),
        (["key=a"], [], [(456, "a"), (789, "a")]),
        (["dataview=456/b", "dataview=1/1/123/789"], [], [(456, "b"), (789, "a")]),
        (["handler=internal_dataset"], [], [(789, "a")]),
        ([], ["key=a"], [(456, "b")]),
        (["dataview=456"], ["dataview=456/a"], [(456, "b")]),
    ],
)
def test_select_plan(targets: list[str], excludes: list[str], expected: list[object]) -> None:
    assert kept(targets, excludes) == expected


def test_dataviews_with_nothing_selected_are_dropped() -> None:
    assert [dv.ref for dv in select_plan(PLAN, ["dataview=789"], []).dataviews] == [OTHER]


@pytest.mark.parametrize(
    ("targets", "excludes", "expected"),
    [
        (["key=a"], [], [REF, OTHER]),
        (["dataview=789/a"], [], [OTHER]),
        ([], ["dataview=456"], [OTHER]),
        ([], ["dataview=456/a"], [REF, OTHER]),
    ],
)
def test_select_dataviews(targets: list[str], excludes: list[str], expected: list[object]) -> None:
    assert [dv.ref for dv in select_dataviews(DESIRED, targets, excludes)] == expected


@pytest.mark.parametrize("option", ["targets", "excludes"])
def test_a_selector_naming_a_dataview_the_manifest_lacks_is_an_error(option: str) -> None:
    desired = DesiredState((DataviewSpec(DataviewRef(1, 1, 123, 456), ()),))
    selectors = {"targets": (), "excludes": (), option: ("dataview=999/sales",)}
    with pytest.raises(ConfigError) as caught:
        select_dataviews(desired, selectors["targets"], selectors["excludes"])
    assert caught.value.message == (
        "'dataview=999/sales' names a dataview the manifest does not have "
        "(its dataviews: 1/1/123/456). Check the id."
    )


def test_a_key_selector_is_not_checked_against_the_manifest() -> None:
    desired = DesiredState((DataviewSpec(DataviewRef(1, 1, 123, 456), ()),))
    assert select_dataviews(desired, ("key=only-live",), ()).dataviews == desired.dataviews
