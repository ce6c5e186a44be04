import copy
from typing import Any

import pytest

from reconciler.errors import PlanFileError
from reconciler.plan import Action, Change, FieldChange, Plan, ScopePlan
from reconciler.plan_json import FORMAT_VERSION, plan_from_json, plan_to_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from tests.render.plans import DV1, every_action_plan, huge_plan, in_sync_plan
from tests.render.schemas import errors


@pytest.mark.parametrize("plan", [every_action_plan(), in_sync_plan(), huge_plan(3, 2), Plan(())])
def test_every_produced_json_is_valid_against_the_schema(plan: Plan) -> None:
    assert errors("plan.schema.json", plan_to_json(plan)) == []


def test_summary_counts_every_action_and_says_whether_apply_acts() -> None:
    summary = plan_to_json(every_action_plan())["summary"]
    assert summary == {
        "counts": {
            "add": 1,
            "edit": 1,
            "replace": 1,
            "delete": 1,
            "adopt": 1,
            "unmanaged": 1,
            "no-op": 3,
            "run": 0,
            "wait": 0,
            "fresh": 0,
        },
        "has_changes": True,
    }
    assert plan_to_json(in_sync_plan())["summary"]["has_changes"] is False


def test_a_change_carries_its_scope_symbol_and_fields() -> None:
    data = plan_to_json(every_action_plan())
    scope_plan = data["scopes"][1]
    assert data["format_version"] == FORMAT_VERSION == "2.1"
    assert data["manifest_digest"] == "sha256:abc"
    assert (scope_plan["provider"], scope_plan["kind"]) == ("mammoth", "exports")
    assert scope_plan["scope"] == {
        "address": "1/1/123/789",
        "noun": "dataview",
        "resource_noun": "export",
        "fields": {},
    }
    assert scope_plan["live_fingerprint"] == "fp-2"
    assert scope_plan["changes"][0] == {
        "action": "replace",
        "symbol": "-/+",
        "key": "orders",
        "type": "postgres",
        "id": "13",
        "reason": "handler_type changed",
        "refused": "protect is set; remove `protect: true` to allow the replace",
        "drift": "not_yet_applied",
        "fields": [{"path": "handler_type", "old": "s3", "new": "postgres", "sensitive": False}],
    }


def test_frozen_and_exotic_values_become_plain_json() -> None:
    from reconciler.model import freeze

    change = Change(
        Action.EDIT,
        "k",
        "s3",
        "1",
        "r",
        fields=(
            FieldChange("condition", freeze({"a": [1, {"b": 2}]}), None),
            FieldChange("odd", {3}, 1.5),
        ),
    )
    data = plan_to_json(Plan((ScopePlan(DV1, (change,)),)))
    fields = data["scopes"][0]["changes"][0]["fields"]
    assert fields[0]["old"] == {"a": [1, {"b": 2}]}
    assert type(fields[0]["old"]) is dict
    assert fields[1]["old"] == "{3}"
    assert errors("plan.schema.json", data) == []


@pytest.mark.parametrize("plan", [every_action_plan(), in_sync_plan(), Plan(())])
def test_round_trip_gives_the_same_json_and_the_same_renderings(plan: Plan) -> None:
    data = plan_to_json(plan)
    again = plan_to_json(plan_from_json(data))
    assert again == data
    assert render_text(again, color=False) == render_text(data, color=False)
    assert render_markdown(again) == render_markdown(data)


def test_round_trip_keeps_the_plan_apart_from_the_desired_and_live_specs() -> None:
    plan = every_action_plan()
    back = plan_from_json(plan_to_json(plan))
    assert back.scopes[1] == plan.scopes[1]
    assert back.scopes[1].scope == plan.scopes[1].scope
    assert back.scopes[1].scope.title == "dataview 1/1/123/789"
    assert all(change.desired is None and change.live is None for _, change in back.changes())


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = plan_to_json(every_action_plan())
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["not", "a", "plan"], "The plan is not an exportctl plan: it has no format_version."),
        (
            _with(("format_version",), "3.0"),
            "The plan uses format_version 3.0, which this exportctl cannot read (it reads "
            "2.0 to 2.1). Use the exportctl version that wrote it, or re-create it with "
            "`exportctl plan --out`.",
        ),
        (
            _with(("format_version",), "2.7"),
            "The plan uses format_version 2.7, which this exportctl cannot read (it reads "
            "2.0 to 2.1). Use the exportctl version that wrote it, or re-create it with "
            "`exportctl plan --out`.",
        ),
        (
            _with(("format_version",), "1.0"),
            "The plan uses format_version 1.0, written by an older exportctl; this one reads "
            "2.1. Run plan again to make a new one (`exportctl plan --out FILE`).",
        ),
        (
            _with(("format_version",), 1),
            "The plan has an invalid format_version 1; expected MAJOR.MINOR such as '2.1'. "
            "Re-create it with `exportctl plan --out`.",
        ),
        (
            _with(("scopes", 0, "changes", 0, "action"), "create"),
            "The plan is not a valid exportctl plan: at scopes/0/changes/0/action: "
            "'create' is not one of ['add', 'edit', 'replace', 'delete', 'adopt', "
            "'unmanaged', 'no-op', 'run', 'wait', 'fresh']. Re-create it with "
            "`exportctl plan --out`.",
        ),
        (
            _with(("summary",), _DELETE),
            "The plan is not a valid exportctl plan: at (top level): 'summary' is a required "
            "property. Re-create it with `exportctl plan --out`.",
        ),
    ],
)
def test_plan_from_json_refuses_with_a_clear_message(data: Any, message: str) -> None:
    with pytest.raises(PlanFileError) as caught:
        plan_from_json(copy.deepcopy(data))
    assert caught.value.message == message
