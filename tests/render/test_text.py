from reconciler.plan import Action, Change, Plan, ScopePlan
from reconciler.plan_json import plan_to_json
from reconciler.render.text import render_text
from tests.render.plans import dataview, every_action_plan, in_sync_plan

EVERY_ACTION = """\
dataview 1/1/123/456
    + monthly-sales (s3): not in live yet
    ~ weekly (s3, export 12): changed by hand
        ~ target_properties.file: "a.csv" -> "b.csv"
        - condition: {"status": "active"}
        ~ target_properties.password: (sensitive) -> (sensitive)
      # (2 unchanged exports hidden)

dataview 1/1/123/789
  -/+ orders (postgres, export 13): handler_type changed
        ~ handler_type: "s3" -> "postgres"
        ! refused: protect is set; remove `protect: true` to allow the replace
    - legacy (s3, export 14): key left the manifest
   <= found (s3, export 15): unmarked export with the same destination
        + sequence: 2

Not managed by exportctl (left alone; `prune: all` would delete them):
  ? 1/1/123/456 s3:other.csv (s3, export 16): unmarked and matches nothing in the manifest

Plan: 1 to add, 1 to change, 1 to replace, 1 to destroy, 1 to adopt.
Warning: apply will refuse 1 change marked "! refused".
"""


def test_every_action_renders_terraform_like() -> None:
    assert render_text(plan_to_json(every_action_plan()), color=False) == EVERY_ACTION


def test_no_changes_says_so_and_lists_nothing_else() -> None:
    text = render_text(plan_to_json(in_sync_plan()), color=False)
    assert text == "No changes. Live exports match the manifest.\n"


def test_unmanaged_exports_alone_are_listed_but_are_no_changes() -> None:
    plan = Plan(
        (
            ScopePlan(
                dataview("1/1/1/1"),
                (Change(Action.UNMANAGED, "s3:x.csv", "s3", "7", "unmarked"),),
            ),
        )
    )
    assert render_text(plan_to_json(plan), color=False).splitlines() == [
        "Not managed by exportctl (left alone; `prune: all` would delete them):",
        "  ? 1/1/1/1 s3:x.csv (s3, export 7): unmarked",
        "",
        "No changes. Live exports match the manifest.",
    ]


def test_singular_unchanged_export() -> None:
    plan = Plan(
        (
            ScopePlan(
                dataview("1/1/1/1"),
                (
                    Change(Action.DELETE, "old", "s3", "8", "key left the manifest"),
                    Change(Action.NOOP, "same", "s3", "9", "up to date"),
                ),
            ),
        )
    )
    assert render_text(plan_to_json(plan), color=False).splitlines()[:3] == [
        "dataview 1/1/1/1",
        "    - old (s3, export 8): key left the manifest",
        "      # (1 unchanged export hidden)",
    ]


def test_colour_marks_symbols_headers_refusals_and_summary() -> None:
    lines = render_text(plan_to_json(every_action_plan()), color=True).splitlines()
    assert lines[0] == "\x1b[1mdataview 1/1/123/456\x1b[0m"
    assert lines[1] == "  \x1b[32m  +\x1b[0m monthly-sales (s3): not in live yet"
    assert lines[2] == "  \x1b[33m  ~\x1b[0m weekly (s3, export 12): changed by hand"
    assert lines[4] == '        \x1b[31m-\x1b[0m condition: {"status": "active"}'
    assert lines[9] == "  \x1b[31m-/+\x1b[0m orders (postgres, export 13): handler_type changed"
    assert lines[11] == (
        "        \x1b[31m\x1b[1m! refused: protect is set; remove `protect: true` to allow "
        "the replace\x1b[0m"
    )
    assert (
        lines[13]
        == "  \x1b[36m <=\x1b[0m found (s3, export 15): unmarked export with the same destination"
    )
    assert lines[-2] == (
        "\x1b[1mPlan: 1 to add, 1 to change, 1 to replace, 1 to destroy, 1 to adopt.\x1b[0m"
    )


def test_without_colour_there_is_no_escape_sequence() -> None:
    assert "\x1b" not in render_text(plan_to_json(every_action_plan()), color=False)
