"""A provider the core has never heard of, planned, applied and drift-checked by the real CLI.

Acme (``tests/providers/acme/plugin.py``) is installed as any third party's
provider is: an ``exportctl.providers`` entry point of a distribution on
``sys.path``. Nothing in ``reconciler/`` names it; the manifest's ``acme:``
section reaches it through the registry, and its widgets (declarative) and
reports (snapshots) go through the same planner, plan formats, applier and
drift report as Mammoth's exports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler import providers
from reconciler.cli.main import cli
from reconciler.model import RunState
from tests.providers.acme import plugin

MANIFEST = """\
version: 1
acme:
  widgets:
    - {key: door, name: front-door, shape: square, color: red, token: "${env:ACME_TOKEN}"}
    - {key: knob, name: knob, shape: round}
  reports:
    - {key: weekly, query: "select 1", max_age_s: 3600, keep: 1}
"""
TOKEN = "s3cr3t-acme-token"


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Acme installed, its in-memory platform empty; yields the manifest path."""
    info = tmp_path / "acme_exportctl-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-exportctl\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{providers.ENTRY_POINT_GROUP}]\nacme = tests.providers.acme.plugin:FACTORY\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ACME_TOKEN", TOKEN)
    monkeypatch.delenv("NO_COLOR", raising=False)
    _forget()
    plugin.API.__init__()  # type: ignore[misc]  # a fresh platform for every test
    manifest = tmp_path / "exports.yaml"
    manifest.write_text(MANIFEST)
    yield manifest
    _forget()


def _forget() -> None:
    providers.factory.cache_clear()
    providers._entry_points.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def plan_json(manifest: Path) -> dict[str, Any]:
    result = run("plan", "-f", str(manifest), "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def actions(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (scope_plan["kind"], change["action"], change["key"])
        for scope_plan in document["scopes"]
        for change in scope_plan["changes"]
    ]


def test_validate_and_plan_speak_the_providers_words(acme: Path) -> None:
    assert run("validate", "-f", str(acme)).stdout == (
        "Valid: 1 widgets of acme account, 2 widgets, 1 reports of acme account, 1 report "
        "in 1 file.\n"
    )
    text = run("plan", "-f", str(acme)).stdout
    assert "widgets of acme account default" in text
    assert "+ door (square): no live widget has this key or destination" in text
    assert "+ weekly (report): no run of this request exists yet" in text
    assert "+ token: (sensitive)" in text
    assert TOKEN not in text
    document = plan_json(acme)
    assert document["format_version"] == "2.1"
    assert actions(document) == [
        ("widgets", "add", "door"),
        ("widgets", "add", "knob"),
        ("reports", "run", "weekly"),
    ]


def test_apply_then_plan_has_no_changes_and_drift_is_in_sync(acme: Path) -> None:
    applied = run("apply", "-f", str(acme), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "created as widget 1" in applied.stderr + applied.stdout
    assert len(plugin.API.widgets) == 2
    assert [r["state"] for r in plugin.API.runs.values()] == [RunState.SUCCEEDED]
    assert actions(plan_json(acme)) == [
        ("widgets", "no-op", "door"),
        ("widgets", "no-op", "knob"),
        ("reports", "fresh", "weekly"),
    ]
    again = run("plan", "-f", str(acme), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    drift = run("drift", "-f", str(acme))
    assert (drift.exit_code, drift.stdout.splitlines()[0]) == (
        0,
        "In sync: 2 scopes match the manifest.",
    )
    assert TOKEN not in applied.output + again.output + drift.output


def test_a_hand_edit_and_a_stale_report_are_drift(acme: Path) -> None:
    assert run("apply", "-f", str(acme), "--auto-approve").exit_code == 0
    door = next(w for w in plugin.API.widgets.values() if w["name"] == "front-door")
    door["color"] = "blue"  # someone changed it in Acme's UI
    plugin.API.advance(7200)  # the report is now older than its max_age
    drift = run("drift", "-f", str(acme), "--format", "json")
    assert drift.exit_code == 2, drift.output
    report = json.loads(drift.stdout)
    assert report["counts"]["changed_by_hand"] == 1
    assert report["counts"]["stale"] == 1
    fixed = run("apply", "-f", str(acme), "--auto-approve")
    assert fixed.exit_code == 0, fixed.output
    assert {w["name"]: w["color"] for w in plugin.API.widgets.values()}["front-door"] == "red"
    assert len(plugin.API.runs) == 1  # keep: 1 pruned the old run after the new one succeeded
    assert actions(plan_json(acme))[-1] == ("reports", "fresh", "weekly")


def test_a_changed_shape_is_a_replace_and_selectors_use_the_providers_type_word(
    acme: Path,
) -> None:
    assert run("apply", "-f", str(acme), "--auto-approve").exit_code == 0
    acme.write_text(MANIFEST.replace("shape: round", "shape: square"))
    document = plan_json(acme)
    assert ("widgets", "replace", "knob") in actions(document)
    only_square = run("plan", "-f", str(acme), "--target", "shape=square", "--format", "json")
    assert [c["key"] for s in json.loads(only_square.stdout)["scopes"] for c in s["changes"]] == [
        "door",
        "knob",
    ]
    bad = run("plan", "-f", str(acme), "--target", "shape=oval")
    assert "invalid selector 'shape=oval': unknown shape type 'oval'" in bad.output


def test_a_broken_section_is_reported_where_it_is_written(acme: Path) -> None:
    acme.write_text(MANIFEST.replace("shape: round", "shape: oval"))
    result = run("validate", "-f", str(acme))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f'{acme}:5:38: acme.widgets[1].shape: expected one of round, square; got "oval"'
    )


def test_a_saved_wait_still_applies_once_its_run_has_finished(acme: Path) -> None:
    acme.write_text(MANIFEST.replace("    - {key: knob, name: knob, shape: round}\n", ""))
    assert run("apply", "-f", str(acme), "--auto-approve").exit_code == 0
    plugin.API.advance(7200)
    plugin.API.runs["99"] = {"query": "select 1", "state": RunState.RUNNING, "at": plugin.API.now}
    saved = acme.parent / "plan.json"
    planned = run("plan", "-f", str(acme), "--out", str(saved))
    assert "… weekly (report, report 99): run 99 is in progress" in planned.stdout, planned.output
    plugin.API.runs["99"]["state"] = RunState.SUCCEEDED  # it finished before the merge
    applied = run("apply", str(saved))
    assert applied.exit_code == 0, applied.output
    assert len(plugin.API.runs) == 1  # the old run is pruned (keep: 1); nothing ran twice
