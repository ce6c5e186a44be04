"""--target / --exclude selectors."""

import pytest

from reconciler.errors import ConfigError
from reconciler.model import DesiredState, LiveScope
from reconciler.planner import make_plan
from reconciler.providers.mammoth.kind import dataview_spec
from reconciler.providers.mammoth.model import DataviewRef
from reconciler.selectors import parse_selector, select_plan, select_scopes
from tests.providers.mammoth.planner.builders import REF, live, spec

OTHER = DataviewRef(1, 1, 123, 789)
DESIRED = DesiredState(
    (
        dataview_spec(REF, (spec("a", "a.csv"), spec("b", "b.csv"))),
        dataview_spec(OTHER, (spec("a", "a.csv", handler_type="internal_dataset"),)),
    )
)
PLAN = make_plan(DESIRED, {REF.scope: LiveScope(REF.scope, (live(10, spec("a", "a.csv")),))})


PROVIDERS = ["mammoth"]
ELSEWHERE = DataviewRef(2, 1, 123, 456)  # the same dataview id in another workspace


def kept(targets: list[str], excludes: list[str]) -> list[tuple[int, str]]:
    return [
        (DataviewRef.of(s).dataview_id, c.key)
        for s, c in select_plan(PLAN, targets, excludes).changes()
    ]


@pytest.mark.parametrize(
    ("text", "key", "type_", "matching"),
    [
        ("dataview=456", None, None, [REF, ELSEWHERE]),
        ("dataview=1/1/123/456", None, None, [REF]),
        ("dataview=456/a", "a", None, [REF, ELSEWHERE]),
        ("dataview=1/1/123/456/a", "a", None, [REF]),
        ("key=a", "a", None, [REF, ELSEWHERE, OTHER]),
        ("handler=s3", None, "s3", [REF, ELSEWHERE, OTHER]),
        ("type=s3", None, "s3", [REF, ELSEWHERE, OTHER]),
        ("provider=mammoth", None, None, [REF, ELSEWHERE, OTHER]),
    ],
)
def test_accepted_selector_forms(
    text: str, key: str | None, type_: str | None, matching: list[DataviewRef]
) -> None:
    selector = parse_selector(text, PROVIDERS)
    assert (selector.key, selector.type) == (key, type_)
    named = [ref for ref in (REF, ELSEWHERE, OTHER) if selector.matches_scope(ref.scope)]
    assert named == matching


FORMS = (
    "Accepted forms: dataview=ID, dataview=W/P/D/V, dataview=ID/KEY, "
    "dataview=W/P/D/V/KEY, handler=TYPE, key=KEY, provider=NAME, type=TYPE"
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("456", "expected NAME=VALUE"),
        ("key=", "expected NAME=VALUE"),
        ("name=x", "unknown selector 'name'"),
        ("handler=s4", "unknown handler type 's4'"),
        ("provider=domo", "the manifest uses no provider 'domo'"),
        ("dataview=x", "a dataview is an id or W/P/D/V ids, optionally followed by /KEY"),
        ("dataview=1/2/3", "a dataview is an id or W/P/D/V ids, optionally followed by /KEY"),
        ("dataview=456/", "a dataview is an id or W/P/D/V ids, optionally followed by /KEY"),
    ],
)
def test_bad_selectors_name_the_problem_and_the_accepted_forms(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_selector(text, PROVIDERS)
    assert error.value.message == f"invalid selector {text!r}: {problem}. {FORMS}"


def test_a_misspelt_provider_names_the_one_meant() -> None:
    with pytest.raises(ConfigError) as error:
        parse_selector("provider=mamoth", PROVIDERS)
    assert "the manifest uses no provider 'mamoth'; did you mean 'mammoth'?" in (
        error.value.message
    )


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
    assert [sp.scope for sp in select_plan(PLAN, ["dataview=789"], []).scopes] == [OTHER.scope]


@pytest.mark.parametrize(
    ("targets", "excludes", "expected"),
    [
        (["key=a"], [], [REF, OTHER]),
        (["dataview=789/a"], [], [OTHER]),
        ([], ["dataview=456"], [OTHER]),
        ([], ["dataview=456/a"], [REF, OTHER]),
        ([], ["provider=mammoth"], []),
    ],
)
def test_select_dataviews(
    targets: list[str], excludes: list[str], expected: list[DataviewRef]
) -> None:
    selected = [spec.scope for spec in select_scopes(DESIRED, targets, excludes)]
    assert selected == [ref.scope for ref in expected]


@pytest.mark.parametrize("option", ["targets", "excludes"])
def test_a_selector_naming_a_dataview_the_manifest_lacks_is_an_error(option: str) -> None:
    desired = DesiredState((dataview_spec(DataviewRef(1, 1, 123, 456), ()),))
    selectors = {"targets": (), "excludes": (), option: ("dataview=999/sales",)}
    with pytest.raises(ConfigError) as caught:
        select_scopes(desired, selectors["targets"], selectors["excludes"])
    assert caught.value.message == (
        "'dataview=999/sales' names a dataview the manifest does not have "
        "(its dataviews: 1/1/123/456). Check the id."
    )


def test_a_key_selector_is_not_checked_against_the_manifest() -> None:
    desired = DesiredState((dataview_spec(DataviewRef(1, 1, 123, 456), ()),))
    assert select_scopes(desired, ("key=only-live",), ()).scopes == desired.scopes


SALES = DesiredState(
    (dataview_spec(REF, (spec("monthly-sales", "m.csv"), spec("weekly-sales", "w.csv"))),)
)
SALES_PLAN = make_plan(SALES, {REF.scope: LiveScope(REF.scope, ())})


@pytest.mark.parametrize("option", ["targets", "excludes"])
def test_a_key_one_typo_from_a_key_of_the_plan_names_that_key(option: str) -> None:
    """An exclude too: it would otherwise let the run change the entry it was meant to hold."""
    selectors: dict[str, list[str]] = {"targets": [], "excludes": []}
    selectors[option].append("key=monthly-sale")
    with pytest.raises(ConfigError) as caught:
        select_plan(SALES_PLAN, selectors["targets"], selectors["excludes"])
    flag = {"targets": "--target", "excludes": "--exclude"}[option]
    assert caught.value.message == (
        f"{flag} 'key=monthly-sale' matches nothing: no export of the selected dataviews, "
        "in the manifest or live, has key 'monthly-sale'; did you mean 'monthly-sales'? "
        f"Check the spelling, or leave the {flag} out."
    )


def test_an_exclude_far_from_every_key_is_still_accepted() -> None:
    """A guard such as --exclude key=legacy may name an entry that is not there."""
    assert select_plan(SALES_PLAN, [], ["key=quarterly-report"]) == SALES_PLAN


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kye=a", "unknown selector 'kye'; did you mean 'key'?"),
        ("handlr=s3", "unknown selector 'handlr'; did you mean 'handler'?"),
        (
            "handler=internal_datset",
            "unknown handler type 'internal_datset'; did you mean 'internal_dataset'?",
        ),
    ],
)
def test_a_misspelt_selector_name_or_type_names_the_closest(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_selector(text, PROVIDERS)
    assert error.value.message == f"invalid selector {text!r}: {problem} {FORMS}"
