"""``exportctl plan`` against the sandbox on a real socket: output, formats, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from reconciler.render.markdown import MARKER
from tests.cli.support import DATAVIEWS, MANIFEST, export_ids, invoke, lines
from tests.conftest import SandboxFactory
from tests.render.schemas import errors
from tests.sandboxes import RunningSandbox

pytestmark = pytest.mark.usefixtures("credentials")

REASON = "no live export has this key or destination"
S3_DEFAULTS = [
    '        + target_properties.file_type: "csv"',
    "        + target_properties.include_hidden: false",
    "        + target_properties.is_format_set: true",
    "        + target_properties.use_format: true",
]
SALES = [
    f"    + sales (s3): {REASON}",
    "        + end_of_pipeline: true",
    '        + target_properties.file: "sales.csv"',
    *S3_DEFAULTS,
    '        + trigger_type: "none"',
]
WAREHOUSE = [
    f"    + warehouse (postgres): {REASON}",
    "        + end_of_pipeline: true",
    '        + target_properties.database: "dw"',
    '        + target_properties.host: "pg.example.com"',
    "        + target_properties.password: (sensitive)",
    "        + target_properties.port: 5432",
    '        + target_properties.table: "sales"',
    '        + target_properties.username: "writer"',
    '        + trigger_type: "none"',
]
SUMMARY = [
    f"    + summary (s3): {REASON}",
    "        + end_of_pipeline: true",
    '        + target_properties.file: "summary.csv"',
    *S3_DEFAULTS,
    '        + trigger_type: "none"',
]
DV456, DV457 = "dataview 1/1/123/456", "dataview 1/1/123/457"
ADDS = [
    DV456,
    *SALES,
    *WAREHOUSE,
    "",
    DV457,
    *SUMMARY,
    "",
    "Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy, 0 to adopt.",
]


def _plan(server: RunningSandbox, manifest: Path, *extra: str) -> list[str]:
    return ["plan", "-f", str(manifest), "--endpoint", server.base_url, *extra]


def _apply(server: RunningSandbox, manifest: Path) -> None:
    result = invoke("apply", "-f", manifest, "--endpoint", server.base_url, "--auto-approve")
    assert result.exit_code == 0, result.stderr


def test_plan_lists_the_adds_for_empty_dataviews(server: RunningSandbox, manifest: Path) -> None:
    result = invoke(*_plan(server, manifest))
    assert (result.exit_code, lines(result.stdout), result.stderr) == (0, ADDS, "")


def test_plan_after_apply_has_no_changes(server: RunningSandbox, manifest: Path) -> None:
    _apply(server, manifest)
    result = invoke(*_plan(server, manifest, "--detailed-exitcode"))
    assert lines(result.stdout) == ["No changes. Live exports match the manifest."]
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("applied", "flags", "code"),
    [
        (False, (), 0),
        (False, ("--detailed-exitcode",), 2),
        (True, (), 0),
        (True, ("--detailed-exitcode",), 0),
    ],
)
def test_plan_exit_codes(
    server: RunningSandbox, manifest: Path, applied: bool, flags: tuple[str, ...], code: int
) -> None:
    if applied:
        _apply(server, manifest)
    assert invoke(*_plan(server, manifest, *flags)).exit_code == code


@pytest.mark.parametrize("flags", [(), ("--detailed-exitcode",)], ids=["plain", "detailed"])
def test_a_plan_apply_would_refuse_fails_and_is_not_saved(
    server: RunningSandbox, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    """A pull request's check must not pass what the apply on merge will refuse."""
    sales = "\n".join(
        [
            "      - key: sales",
            "        handler_type: s3",
            "        target_properties: {file: sales.csv}\n",
        ]
    )
    assert sales in MANIFEST
    protected = tmp_path / "protected.yaml"
    protected.write_text(MANIFEST.replace(sales, sales + "        protect: true\n"))
    _apply(server, protected)
    removed = tmp_path / "removed.yaml"  # prune: a protected export would be deleted
    removed.write_text(MANIFEST.replace(sales, ""))
    saved = tmp_path / "refused.plan.json"
    result = invoke(*_plan(server, removed, *flags), "--out", saved)
    assert result.exit_code == 1
    assert "! refused" in result.stdout  # the plan is shown, for the review
    assert 'Apply would refuse 1 change marked "! refused" in the plan' in result.stderr
    assert not saved.exists()
    as_json = invoke(*_plan(server, removed, "--format", "json"))
    document = json.loads(as_json.stdout)
    assert (as_json.exit_code, errors("plan.schema.json", document)) == (1, [])
    assert document["error"].startswith("Apply would refuse 1 change")


def test_plan_json_follows_the_published_schema(server: RunningSandbox, manifest: Path) -> None:
    result = invoke(*_plan(server, manifest, "--format", "json"))
    document = json.loads(result.stdout)
    assert errors("plan.schema.json", document) == []
    assert document["summary"]["counts"]["add"] == 3
    assert result.exit_code == 0


def test_plan_markdown_carries_the_comment_marker(server: RunningSandbox, manifest: Path) -> None:
    result = invoke(*_plan(server, manifest, "--format", "markdown"))
    assert lines(result.stdout)[:2] == [MARKER, "## exportctl plan"]
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        (("--target", "dataview=457"), [DV457, *SUMMARY]),
        (("--target", "key=warehouse"), [DV456, *WAREHOUSE]),
        (("--exclude", "dataview=456"), [DV457, *SUMMARY]),
        (("--exclude", "handler=s3"), [DV456, *WAREHOUSE]),
        (("--target", "dataview=456", "--exclude", "key=sales"), [DV456, *WAREHOUSE]),
    ],
)
def test_selectors_narrow_the_plan(
    server: RunningSandbox, manifest: Path, selectors: tuple[str, ...], expected: list[str]
) -> None:
    result = invoke(*_plan(server, manifest, *selectors))
    summary = "Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy, 0 to adopt."
    assert lines(result.stdout) == [*expected, "", summary]


def test_colour_only_when_asked_off_a_terminal(server: RunningSandbox, manifest: Path) -> None:
    plain = invoke(*_plan(server, manifest))
    coloured = invoke(*_plan(server, manifest, "--color"))
    assert "\x1b[" not in plain.stdout
    assert "\x1b[32m" in coloured.stdout  # green "+"
    assert click.unstyle(coloured.stdout) == plain.stdout


def test_a_saved_plan_is_applied_only_where_it_was_made(
    server: RunningSandbox, manifest: Path, tmp_path: Path, sandbox_factory: SandboxFactory
) -> None:
    """Reviewed against one API, a plan must not write to another (staging, production)."""
    planfile = tmp_path / "exportctl.plan"
    assert invoke(*_plan(server, manifest, "--out", str(planfile))).exit_code == 0
    other = sandbox_factory()
    other.store.ensure_dataviews(DATAVIEWS)
    elsewhere = invoke("apply", planfile, "--endpoint", other.base_url)
    assert elsewhere.exit_code == 1
    assert (
        f"was made against the mammoth API at {server.base_url}, but this apply would write "
        f"to {other.base_url}" in elsewhere.stderr
    )
    assert export_ids(other.base_url) == {}
    assert invoke("apply", planfile, "--endpoint", server.base_url).exit_code == 0


def test_a_plan_made_in_one_embedded_sandbox_is_not_applied_to_another(
    manifest: Path, tmp_path: Path
) -> None:
    planfile, first, second = tmp_path / "p.plan", tmp_path / "a.db", tmp_path / "b.db"
    planned = invoke("plan", "-f", manifest, "--sandbox", first, "--out", planfile)
    assert planned.exit_code == 0, planned.stderr
    elsewhere = invoke("apply", planfile, "--sandbox", second)
    assert elsewhere.exit_code == 1
    assert f"the embedded sandbox {first}, but this apply would write to the embedded " in (
        elsewhere.stderr
    )
    assert invoke("apply", planfile, "--sandbox", first).exit_code == 0


def test_out_saves_a_plan_that_show_renders_identically(
    server: RunningSandbox, manifest: Path, tmp_path: Path
) -> None:
    planfile = tmp_path / "exportctl.plan"
    planned = invoke(*_plan(server, manifest, "--out", str(planfile)))
    assert lines(planned.stderr) == [
        f"Saved the plan to {planfile}. Apply exactly this plan with: exportctl apply {planfile}"
    ]
    shown = invoke("show", planfile, "--no-color")
    assert (shown.exit_code, shown.stdout, shown.stderr) == (0, planned.stdout, "")
    assert planfile.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("output_format", ["json", "markdown"])
def test_show_renders_every_format_as_plan_did(
    server: RunningSandbox, manifest: Path, tmp_path: Path, output_format: str
) -> None:
    planfile = tmp_path / "exportctl.plan"
    planned = invoke(*_plan(server, manifest, "--format", output_format, "--out", str(planfile)))
    shown = invoke("show", planfile, "--format", output_format)
    assert shown.stdout == planned.stdout


def test_saved_plan_applies(server: RunningSandbox, manifest: Path, tmp_path: Path) -> None:
    planfile = tmp_path / "exportctl.plan"
    invoke(*_plan(server, manifest, "--out", str(planfile)))
    applied = invoke("apply", planfile, "--endpoint", server.base_url)
    assert applied.exit_code == 0, applied.stderr
    assert invoke(*_plan(server, manifest, "--detailed-exitcode")).exit_code == 0


def test_help_teaches_with_examples() -> None:
    result = invoke("plan", "--help")
    assert "    exportctl plan -f exports/ --out exportctl.plan       # save it for apply" in (
        lines(result.stdout)
    )
    assert result.exit_code == 0


def test_a_sandbox_plan_suggests_an_apply_that_works(manifest: Path, tmp_path: Path) -> None:
    # The hint used to drop --sandbox: following it asked for Mammoth credentials.
    db, planfile = tmp_path / "sandbox.db", tmp_path / "exportctl.plan"
    planned = invoke("plan", "-f", manifest, "--sandbox", db, "--out", planfile)
    hint = lines(planned.stderr)[-1]
    suggested = hint.split("Apply exactly this plan with: exportctl ", 1)[1].split()
    assert suggested == ["apply", str(planfile), "--sandbox", str(db)]
    applied = invoke(*suggested, env={"MAMMOTH_API_KEY": None, "MAMMOTH_API_SECRET": None})
    assert applied.exit_code == 0, applied.output
