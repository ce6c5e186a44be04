from reconciler.plan import Action, Change, Plan, ScopePlan
from reconciler.plan_json import plan_to_json
from reconciler.render.markdown import GITHUB_COMMENT_LIMIT, MARKER, render_markdown
from tests.render.plans import dataview, every_action_plan, huge_plan, in_sync_plan

EVERY_ACTION = """\
<!-- exportctl-plan -->
## exportctl plan

**Plan: 1 to add, 1 to change, 1 to replace, 1 to destroy, 1 to adopt.**

> **Warning:** apply will refuse 1 change marked `! refused`.

| Action | Count |
| --- | ---: |
| add | 1 |
| change | 1 |
| replace | 1 |
| destroy | 1 |
| adopt | 1 |
| unmanaged | 1 |
| unchanged | 3 |

| Dataview | add | change | replace | destroy | adopt | unmanaged | unchanged |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| `1/1/123/456` | 1 | 1 | 0 | 0 | 0 | 1 | 2 |
| `1/1/123/789` | 0 | 0 | 1 | 1 | 1 | 0 | 0 |

1 other dataview has nothing to change.

<details><summary><code>1/1/123/456</code>: 1 to add, 1 to change, 1 unmanaged</summary>

```diff
+ monthly-sales (s3): not in live yet
~ weekly (s3, export 12): changed by hand
-     target_properties.file: "a.csv"
+     target_properties.file: "b.csv"
-     condition: {"status": "active"}
-     target_properties.password: (sensitive)
+     target_properties.password: (sensitive)
? s3:other.csv (s3, export 16): unmarked and matches nothing in the manifest
# (2 unchanged exports hidden)
```

</details>

<details open><summary><code>1/1/123/789</code>: 1 to replace, 1 to destroy, 1 to adopt</summary>

```diff
-/+ orders (postgres, export 13): handler_type changed
-     handler_type: "s3"
+     handler_type: "postgres"
! refused: protect is set; remove `protect: true` to allow the replace
- legacy (s3, export 14): key left the manifest
<= found (s3, export 15): unmarked export with the same destination
+     sequence: 2
```

</details>
"""

IN_SYNC = """\
<!-- exportctl-plan -->
## exportctl plan

No changes. Live exports match the manifest.

| Action | Count |
| --- | ---: |
| add | 0 |
| change | 0 |
| replace | 0 |
| destroy | 0 |
| adopt | 0 |
| unmanaged | 0 |
| unchanged | 1 |

1 dataview has nothing to change.
"""


def test_every_action_renders_as_a_pr_comment() -> None:
    assert render_markdown(plan_to_json(every_action_plan())) == EVERY_ACTION


def test_no_changes() -> None:
    assert render_markdown(plan_to_json(in_sync_plan())) == IN_SYNC


def test_the_marker_comes_first_so_ci_can_find_the_comment() -> None:
    assert render_markdown(plan_to_json(every_action_plan())).startswith(MARKER + "\n")
    assert MARKER == "<!-- exportctl-plan -->"


def test_a_key_with_backticks_cannot_close_the_fence() -> None:
    change = Change(Action.ADD, "a```b", "s3", None, "new")
    markdown = render_markdown(plan_to_json(Plan((ScopePlan(dataview("1/1/1/1"), (change,)),))))
    assert "````diff\n+ a```b (s3): new\n````\n" in markdown


def test_a_huge_plan_is_summarised_within_githubs_limit() -> None:
    plan_json = plan_to_json(huge_plan(dataviews=300, exports=20))  # 6000 edits
    markdown = render_markdown(plan_json)
    assert len(markdown) <= GITHUB_COMMENT_LIMIT
    assert markdown.startswith(MARKER)
    assert "**Plan: 0 to add, 6000 to change, 0 to replace, 0 to destroy, 0 to adopt.**" in markdown
    summarised = 300 - markdown.count("<details>")
    assert 0 < summarised < 300
    assert (
        f"> **Plan too large to show in full**; field changes left out, {summarised} "
        "dataviews summarised. See the job log/artifact for the full plan."
    ) in markdown
    assert "target_properties.file" not in markdown
    assert markdown.count("| `1/1/100/") == 300  # every dataview keeps its table row


def test_field_changes_go_first_when_that_is_enough() -> None:
    plan_json = plan_to_json(huge_plan(dataviews=2, exports=20))
    full = render_markdown(plan_json)
    markdown = render_markdown(plan_json, limit=len(full) - 1)
    assert len(markdown) <= len(full) - 1
    assert (
        "> **Plan too large to show in full**; field changes left out. "
        "See the job log/artifact for the full plan." in markdown
    )
    assert markdown.count("<details>") == 2


def test_even_the_table_is_cut_when_it_alone_is_too_long() -> None:
    plan_json = plan_to_json(huge_plan(dataviews=3000, exports=1))
    markdown = render_markdown(plan_json)
    assert len(markdown) <= GITHUB_COMMENT_LIMIT
    rows = markdown.count("| `1/1/100/")
    assert 0 < rows < 3000
    assert (
        f"field changes left out, 3000 dataviews summarised, {3000 - rows} left out of the table."
    ) in markdown
