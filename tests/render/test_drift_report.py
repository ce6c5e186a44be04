from collections.abc import Callable

import pytest

from reconciler.drift_json import drift_to_json
from reconciler.plan import Action, Change, Plan, ScopePlan
from reconciler.plan_json import plan_to_json
from reconciler.render.drift_report import (
    render_drift_markdown,
    render_drift_text,
)
from reconciler.render.markdown import GITHUB_COMMENT_LIMIT
from tests.render.plans import dataview, every_action_plan, huge_plan, in_sync_plan
from tests.render.schemas import errors

DRIFT_TEXT = """\
Drift detected in 2 dataviews: 1/1/123/456, 1/1/123/789 (1 changed by hand, 3 not yet applied, 1 missing, 1 unmanaged).

dataview 1/1/123/456
  changed by hand:
    weekly (s3, export 12): changed by hand
        ~ target_properties.file: "a.csv" -> "b.csv"
        - condition: {"status": "active"}
        ~ target_properties.password: (sensitive) -> (sensitive)
  missing:
    monthly-sales (s3): not in live yet
  unmanaged:
    s3:other.csv (s3, export 16): unmarked and matches nothing in the manifest

dataview 1/1/123/789
  not yet applied:
    orders (postgres, export 13): handler_type changed
        ~ handler_type: "s3" -> "postgres"
    legacy (s3, export 14): key left the manifest
    found (s3, export 15): unmarked export with the same destination
        + sequence: 2

Run `exportctl plan` to see what apply would do about it.
"""  # noqa: E501

DRIFT_MARKDOWN = """\
Drift detected in 2 dataviews: 1/1/123/456, 1/1/123/789 (1 changed by hand, 3 not yet applied, 1 missing, 1 unmanaged).

- `1/1/123/456`: 1 changed by hand (`weekly`); 1 missing (`monthly-sales`); 1 unmanaged (`s3:other.csv`)
- `1/1/123/789`: 3 not yet applied (`orders`, `legacy`, `found`)

<details><summary><code>1/1/123/456</code>: 1 changed by hand; 1 missing; 1 unmanaged</summary>

```diff
# changed by hand
~ weekly (s3, export 12): changed by hand
-     target_properties.file: "a.csv"
+     target_properties.file: "b.csv"
-     condition: {"status": "active"}
-     target_properties.password: (sensitive)
+     target_properties.password: (sensitive)
# missing
+ monthly-sales (s3): not in live yet
# unmanaged
? s3:other.csv (s3, export 16): unmarked and matches nothing in the manifest
```

</details>

<details><summary><code>1/1/123/789</code>: 3 not yet applied</summary>

```diff
# not yet applied
-/+ orders (postgres, export 13): handler_type changed
-     handler_type: "s3"
+     handler_type: "postgres"
- legacy (s3, export 14): key left the manifest
<= found (s3, export 15): unmarked export with the same destination
+     sequence: 2
```

</details>
"""  # noqa: E501


def _report(plan: Plan) -> dict[str, object]:
    return drift_to_json(plan_to_json(plan))


@pytest.mark.parametrize("plan", [every_action_plan(), in_sync_plan(), huge_plan(3, 2), Plan(())])
def test_every_report_is_valid_against_the_schema(plan: Plan) -> None:
    assert errors("drift-report.schema.json", _report(plan)) == []


def test_report_sorts_entries_by_drift_kind() -> None:
    report = drift_to_json(plan_to_json(every_action_plan()))
    assert report["in_sync"] is False
    assert report["counts"] == {
        "scopes": 3,
        "scopes_drifted": 2,
        "changed_by_hand": 1,
        "not_yet_applied": 3,
        "missing": 1,
        "unmanaged": 1,
        "stale": 0,
        "failed": 0,
        "information": 0,
    }
    first = report["scopes"][0]
    assert [e["key"] for e in first["changed_by_hand"]] == ["weekly"]
    assert first["changed_by_hand"][0]["fields"][0] == {
        "path": "target_properties.file",
        "old": "a.csv",
        "new": "b.csv",
        "sensitive": False,
    }
    assert report["scopes"][2]["in_sync"] is True


def test_a_change_without_a_drift_kind_is_sorted_by_its_action() -> None:
    ref = dataview("1/1/1/1")
    changes = (
        Change(Action.ADD, "new", "s3", None, "r"),
        Change(Action.EDIT, "moved", "s3", "2", "r"),
        Change(Action.UNMANAGED, "s3:x.csv", "s3", "3", "r"),
        Change(Action.NOOP, "same", "s3", "4", "r"),
    )
    report = drift_to_json(plan_to_json(Plan((ScopePlan(ref, changes),))))
    first = report["scopes"][0]
    assert [e["key"] for e in first["missing"]] == ["new"]
    assert [e["key"] for e in first["not_yet_applied"]] == ["moved"]
    assert [e["key"] for e in first["unmanaged"]] == ["s3:x.csv"]
    assert first["changed_by_hand"] == []


def test_drift_text() -> None:
    assert render_drift_text(_report(every_action_plan())) == DRIFT_TEXT


def test_drift_markdown() -> None:
    assert render_drift_markdown(_report(every_action_plan())) == DRIFT_MARKDOWN


@pytest.mark.parametrize("render", [render_drift_text, render_drift_markdown])
def test_in_sync(render: Callable[[dict[str, object]], str]) -> None:
    assert render(_report(in_sync_plan())) == "In sync: 1 dataview matches the manifest.\n"


def test_the_headline_stays_short_when_many_dataviews_drift() -> None:
    first = render_drift_text(_report(huge_plan(dataviews=40, exports=7))).splitlines()[0]
    assert first == (
        "Drift detected in 40 dataviews: 1/1/100/1000, 1/1/100/1001, 1/1/100/1002, "
        "1/1/100/1003, 1/1/100/1004 and 35 more (280 not yet applied)."
    )


@pytest.mark.parametrize(
    ("dataviews", "details", "fields"),
    [(2, True, True), (15, True, False), (30, False, False)],
    ids=["everything", "entries without their fields", "bullets only"],
)
def test_markdown_leaves_out_what_would_not_fit_in_one_comment(
    dataviews: int, details: bool, fields: bool
) -> None:
    markdown = render_drift_markdown(_report(huge_plan(dataviews=dataviews, exports=40)))
    assert len(markdown) <= GITHUB_COMMENT_LIMIT
    assert markdown.splitlines()[2].startswith("- `1/1/100/1000`: 40 not yet applied")
    assert ("<details>" in markdown, '+     target_properties.file: "new-0.csv"' in markdown) == (
        details,
        fields,
    )


def test_markdown_names_a_few_keys_then_counts_the_rest() -> None:
    markdown = render_drift_markdown(_report(huge_plan(dataviews=1, exports=7)))
    assert markdown.splitlines()[2] == (
        "- `1/1/100/1000`: 7 not yet applied (`export-000`, `export-001`, `export-002`, "
        "`export-003`, `export-004` and 2 more)"
    )
