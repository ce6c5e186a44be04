import copy
from typing import Any

import pytest

from reconciler.errors import PlanFileError
from reconciler.model import DataviewRef
from reconciler.plan import Action, Change, DataviewPlan, FieldChange, Plan
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
        },
        "has_changes": True,
    }
    assert plan_to_json(in_sync_plan())["summary"]["has_changes"] is False


def test_a_change_carries_its_dataview_address_symbol_and_fields() -> None:
    data = plan_to_json(every_action_plan())
    dataview = data["dataviews"][1]
    assert data["format_version"] == FORMAT_VERSION == "1.0"
    assert data["manifest_digest"] == "sha256:abc"
    assert dataview["dataview"] == {
        "workspace_id": 1,
        "project_id": 1,
        "dataset_id": 123,
        "dataview_id": 789,
        "address": "1/1/123/789",
    }
    assert dataview["live_fingerprint"] == "fp-2"
    assert dataview["changes"][0] == {
        "action": "replace",
        "symbol": "-/+",
        "key": "orders",
        "handler_type": "postgres",
        "export_id": 13,
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
        1,
        "r",
        fields=(
            FieldChange("condition", freeze({"a": [1, {"b": 2}]}), None),
            FieldChange("odd", {3}, 1.5),
        ),
    )
    data = plan_to_json(Plan((DataviewPlan(DV1, (change,)),)))
    fields = data["dataviews"][0]["changes"][0]["fields"]
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
    assert back.dataviews[1] == plan.dataviews[1]
    assert back.dataviews[1].ref == DataviewRef(1, 1, 123, 789)
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
            _with(("format_version",), "2.0"),
            "The plan uses format_version 2.0, which this exportctl cannot read (it reads "
            "1.0). Use the exportctl version that wrote it, or re-create it with "
            "`exportctl plan --out`.",
        ),
        (
            _with(("format_version",), "1.7"),
            "The plan uses format_version 1.7, which this exportctl cannot read (it reads "
            "1.0). Use the exportctl version that wrote it, or re-create it with "
            "`exportctl plan --out`.",
        ),
        (
            _with(("format_version",), 1),
            "The plan has an invalid format_version 1; expected MAJOR.MINOR such as '1.0'. "
            "Re-create it with `exportctl plan --out`.",
        ),
        (
            _with(("dataviews", 0, "changes", 0, "action"), "create"),
            "The plan is not a valid exportctl plan: at dataviews/0/changes/0/action: "
            "'create' is not one of ['add', 'edit', 'replace', 'delete', 'adopt', "
            "'unmanaged', 'no-op']. Re-create it with `exportctl plan --out`.",
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
