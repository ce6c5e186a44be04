"""``exportctl drift``: changed by hand vs not yet applied, missing, unmanaged; read-only."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from tests.apply.helpers import REF2, dump, seed
from tests.cli.support import (
    MANIFEST,
    add_by_hand,
    export_ids,
    hand_edit,
    invoke,
    lines,
    on_a_terminal,
    write_manifest,
)
from tests.render.schemas import errors
from tests.sandboxes import RunningSandbox

pytestmark = pytest.mark.usefixtures("credentials")

# The manifest moved on for `summary` (a new file name) and gained `extra`.
MOVED_ON = MANIFEST.replace("summary.csv", "summary2.csv").replace(
    "target_properties: {file: sales.csv}",
    "target_properties: {file: sales.csv}\n"
    "      - key: extra\n"
    "        handler_type: s3\n"
    "        target_properties: {file: extra.csv}",
)


def _drifted_lines(ids: dict[str, int]) -> list[str]:
    return [
        "Drift detected in 2 dataviews: 1/1/123/456, 1/1/123/457 "
        "(1 changed by hand, 1 not yet applied, 1 missing, 1 unmanaged).",
        "",
        "dataview 1/1/123/456",
        "  changed by hand:",
        f"    sales (s3, export {ids['sales']}): 1 field differs",
        '        ~ trigger_type: "pipeline" -> "none"',
        "  missing:",
        "    extra (s3): no live export has this key or destination",
        "",
        "dataview 1/1/123/457",
        "  not yet applied:",
        f"    summary (s3, export {ids['summary']}): 1 field differs",
        '        ~ target_properties.file: "summary.csv" -> "summary2.csv"',
        "  unmanaged:",
        "    s3:legacy.csv (s3, export 4): not managed by exportctl and matches nothing "
        "in the manifest",
        "",
        "Run `exportctl plan` to see what apply would do about it.",
    ]


def _drift(server: RunningSandbox, manifest: Path, *extra: str) -> list[str]:
    return ["drift", "-f", str(manifest), "--endpoint", server.base_url, *extra]


def _apply(server: RunningSandbox, manifest: Path) -> None:
    result = invoke("apply", "-f", manifest, "--endpoint", server.base_url, "--auto-approve")
    assert result.exit_code == 0, result.stderr


@pytest.fixture
def drifted(server: RunningSandbox, manifest: Path) -> Path:
    """Applied; then `sales` edited by hand, the manifest moved on, a legacy export added."""
    _apply(server, manifest)
    hand_edit(
        server.base_url,
        export_ids(server.base_url)["sales"],
        {"trigger_type": "pipeline"},
    )
    seed(
        server.base_url,
        REF2,
        [
            {
                "handler_type": "s3",
                "trigger_type": "none",
                "target_properties": {"file": "legacy.csv"},
            }
        ],
    )
    return write_manifest(manifest.parent, MOVED_ON)


def test_in_sync_after_apply(server: RunningSandbox, manifest: Path) -> None:
    _apply(server, manifest)
    result = invoke(*_drift(server, manifest))
    assert (result.exit_code, lines(result.stdout)) == (
        0,
        ["In sync: 2 dataviews match the manifest."],
    )


def test_missing_exports_are_drift(server: RunningSandbox, manifest: Path) -> None:
    result = invoke(*_drift(server, manifest))
    assert lines(result.stdout)[0] == (
        "Drift detected in 2 dataviews: 1/1/123/456, 1/1/123/457 (3 missing)."
    )
    assert result.exit_code == 2


def test_drift_separates_hand_changes_from_unapplied_ones(
    server: RunningSandbox, drifted: Path
) -> None:
    result = invoke(*_drift(server, drifted))
    assert (result.exit_code, lines(result.stdout), result.stderr) == (
        2,
        _drifted_lines(export_ids(server.base_url)),
        "",
    )


def test_drift_markdown_names_the_keys_by_kind_then_shows_what_differs(
    server: RunningSandbox, drifted: Path
) -> None:
    result = invoke(*_drift(server, drifted, "--format", "markdown"))
    assert lines(result.stdout)[2:4] == [
        "- `1/1/123/456`: 1 changed by hand (`sales`); 1 missing (`extra`)",
        "- `1/1/123/457`: 1 not yet applied (`summary`); 1 unmanaged (`s3:legacy.csv`)",
    ]
    details = result.stdout.split("<details>")[1:]
    assert len(details) == 2 and "# changed by hand\n~ sales (s3, export" in details[0]
    assert '-     trigger_type: "pipeline"\n+     trigger_type: "none"' in details[0]
    assert result.exit_code == 2


def test_report_is_the_json_form_whatever_the_format(
    server: RunningSandbox, drifted: Path, tmp_path: Path
) -> None:
    report = tmp_path / "drift-report.json"
    invoke(*_drift(server, drifted, "--format", "markdown", "--report", str(report)))
    as_json = invoke(*_drift(server, drifted, "--format", "json"))
    document = json.loads(report.read_text())
    assert errors("drift-report.schema.json", document) == []
    assert document == json.loads(as_json.stdout)
    assert [e["key"] for e in document["scopes"][0]["changed_by_hand"]] == ["sales"]
    assert [e["key"] for e in document["scopes"][1]["not_yet_applied"]] == ["summary"]


@pytest.mark.parametrize(
    ("selectors", "headline"),
    [
        (
            ("--target", "dataview=456"),
            "Drift detected in 1 dataview: 1/1/123/456 (1 changed by hand, 1 missing).",
        ),
        (
            ("--exclude", "dataview=456"),
            "Drift detected in 1 dataview: 1/1/123/457 (1 not yet applied, 1 unmanaged).",
        ),
        (
            ("--target", "key=summary"),
            "Drift detected in 1 dataview: 1/1/123/457 (1 not yet applied).",
        ),
        (
            ("--target", "key=warehouse"),
            "In sync: 1 dataview matches the manifest.",
        ),
    ],
)
def test_selectors_narrow_drift(
    server: RunningSandbox, drifted: Path, selectors: tuple[str, ...], headline: str
) -> None:
    result = invoke(*_drift(server, drifted, *selectors))
    assert lines(result.stdout)[0] == headline
    assert result.exit_code == (0 if headline.startswith("In sync") else 2)


def test_drift_never_writes_to_the_api(server: RunningSandbox, drifted: Path) -> None:
    before = dump(server.store.path)
    assert invoke(*_drift(server, drifted)).exit_code == 2
    assert dump(server.store.path) == before


def test_drift_colours_its_text_only_when_asked_off_a_terminal(
    server: RunningSandbox, drifted: Path
) -> None:
    plain = invoke(*_drift(server, drifted))
    off = invoke(*_drift(server, drifted, "--no-color"))
    coloured = invoke(*_drift(server, drifted, "--color"))
    assert "\x1b[" not in plain.stdout
    assert off.stdout == plain.stdout
    assert "\x1b[31m\x1b[1mDrift detected" in coloured.stdout  # bold red, like a plan warning
    assert "\x1b[33m~\x1b[0m trigger_type" in coloured.stdout  # the plan's yellow "~"
    assert click.unstyle(coloured.stdout) == plain.stdout
    assert coloured.exit_code == plain.exit_code == 2


def test_json_and_the_report_stay_colourless_under_color(
    server: RunningSandbox, drifted: Path, tmp_path: Path
) -> None:
    report = tmp_path / "drift-report.json"
    as_json = invoke(*_drift(server, drifted, "--format", "json", "--color", "--report", report))
    assert "\x1b[" not in as_json.stdout + report.read_text()
    assert json.loads(as_json.stdout) == json.loads(report.read_text())


def _drift_on_a_terminal(server: RunningSandbox, manifest: Path, **env: str) -> str:
    return on_a_terminal(_drift(server, manifest), stderr=False, **env)


def test_no_color_wins_over_a_terminal(server: RunningSandbox, drifted: Path) -> None:
    on_a_terminal = _drift_on_a_terminal(server, drifted)
    with_no_color = _drift_on_a_terminal(server, drifted, NO_COLOR="1")
    assert "\x1b[" in on_a_terminal
    assert "Drift detected" in with_no_color
    assert "\x1b[" not in with_no_color


def test_unmanaged_exports_alone_point_to_adopting_them_not_to_a_plan(
    server: RunningSandbox, manifest: Path
) -> None:
    """A plan would say "No changes": apply leaves unmanaged exports alone."""
    _apply(server, manifest)
    add_by_hand(server.base_url, REF2, "theirs.csv")
    result = invoke(*_drift(server, manifest))
    assert result.exit_code == 2
    assert lines(result.stdout)[-1] == (
        "Unmanaged exports are not exportctl's, and apply leaves them alone: add an entry "
        "writing to one's destination to adopt it, set `prune: all` on its dataview to "
        "delete them, or `unmanaged: information` to stop reporting them as drift."
    )
    planned = invoke("plan", "-f", manifest, "--endpoint", server.base_url)
    assert lines(planned.stdout)[-1] == "No changes. Live exports match the manifest."
