"""Templates through the real CLI over a socket: plan, apply, plan again, drift.

Every case starts from a fresh sandbox (its own user's templates change), and
checks that other users' system and shared templates are never listed.
"""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.providers.datatools.sandbox.seed import COLLEAGUE
from tests.providers.datatools.cli_support import (
    Cli,
    output,
    own_templates,
    socket_cli,
    template,
)
from tests.providers.datatools.support import Browser, Site

WEEKLY = template(
    "weekly",
    "Weekly sales",
    description="for Monday",
    configuration={
        "format": "CSV",
        "filters": {"columns": ["region"], "dropped": 1},
        "options": {"delimiter": ";"},
    },
)


def applied(site: Site, tmp_path: Path, *entries: dict[str, object]) -> Cli:
    cli = socket_cli(site, tmp_path)
    cli.write(list(entries))
    result = cli.apply()
    assert result.exit_code == 0, output(result)
    return cli


def test_add_then_plan_again_shows_no_changes(site: Site, tmp_path: Path) -> None:
    cli = socket_cli(site, tmp_path)
    cli.write([WEEKLY])
    plan = cli("plan")
    assert plan.exit_code == 0, output(plan)
    assert plan.stdout.splitlines()[:3] == [
        "data-tools user sandbox",
        "    + weekly (user): no live template has this key or destination",
        '        + configuration.filters.columns: ["region"]',
    ]
    assert '+ configuration.format: "csv"' in plan.stdout  # as the server stores it
    assert "dropped" not in plan.stdout  # the server drops that filter key
    assert "CSV - Full Export" not in plan.stdout and COLLEAGUE[0] not in plan.stdout
    result = cli.apply()
    assert result.exit_code == 0, output(result)
    assert "+ weekly (user) created as template " in result.stdout
    again = cli("plan", "--detailed-exitcode")
    assert again.exit_code == 0, output(again)
    assert "No changes." in again.stdout
    drift = cli("drift")
    assert drift.exit_code == 0, output(drift)
    [made] = own_templates(site)
    assert (made.name, made.configuration["format"]) == ("Weekly sales", "csv")


def test_edit_in_place_and_a_removed_key_or_type_is_a_replace(site: Site, tmp_path: Path) -> None:
    cli = applied(site, tmp_path, WEEKLY)
    [before] = own_templates(site)
    cli.write([{**WEEKLY, "description": "for Tuesday"}])
    plan = cli("plan")
    assert f"    ~ weekly (user, template {before.id}): 1 field differs" in plan.stdout
    assert '        ~ description: "for Monday" -> "for Tuesday"' in plan.stdout
    assert cli.apply().exit_code == 0
    [edited] = own_templates(site)
    assert (edited.id, edited.description) == (before.id, "for Tuesday")

    no_options = {"format": "csv", "filters": {"columns": ["region"]}}
    cli.write([{**WEEKLY, "description": "for Tuesday", "configuration": no_options}])
    plan = cli("plan")
    assert "-/+ weekly (user, template " in plan.stdout
    assert "configuration.options is not in the manifest" in plan.stdout
    result = cli.apply()
    assert result.exit_code == 0, output(result)
    [replaced] = own_templates(site)
    assert replaced.id != before.id and "options" not in replaced.configuration

    cli.write([{**WEEKLY, "template_type": "shared", "configuration": no_options}])
    plan = cli("plan")
    assert "-/+ weekly (shared, template " in plan.stdout
    assert "template_type cannot change from 'user' to 'shared'" in plan.stdout
    assert cli.apply().exit_code == 0
    assert [t.template_type for t in own_templates(site)] == ["shared"]
    assert "No changes." in cli("plan").stdout


def test_a_removed_entry_is_deleted_and_a_hand_edit_is_drift(site: Site, tmp_path: Path) -> None:
    other = template("other", "Other")
    cli = applied(site, tmp_path, WEEKLY, other)
    weekly = next(t for t in own_templates(site) if t.name == "Weekly sales")
    with Browser(site) as browser:
        browser.log_in()
        path = f"/tools/api/v1/export-templates/{weekly.id}/"
        assert browser.write("PUT", path, json={"description": "by hand"}).status_code == 200
    drift = cli("drift")
    assert drift.exit_code == 2, output(drift)
    assert "weekly" in drift.stdout and "by hand" in drift.stdout
    cli.write([other])
    plan = cli("plan", "--format", "json")
    changes = [
        (c["action"], c["key"]) for s in json.loads(plan.stdout)["scopes"] for c in s["changes"]
    ]
    assert changes == [("no-op", "other"), ("delete", "weekly")]
    assert cli.apply().exit_code == 0
    assert [t.name for t in own_templates(site)] == ["Other"]


def test_an_unmarked_template_is_adopted_by_name_or_else_unmanaged(
    site: Site, tmp_path: Path
) -> None:
    with Browser(site) as browser:
        browser.log_in()
        for name in ("Weekly sales", "Made by hand"):
            body = {"name": name, "configuration": {"format": "csv"}}
            assert (
                browser.write("POST", "/tools/api/v1/export-templates/", json=body).status_code
                == 201
            )
    cli = socket_cli(site, tmp_path)
    cli.write([WEEKLY])
    plan = cli("plan", "--format", "markdown")
    assert plan.exit_code == 0, output(plan)
    assert "adopt" in plan.stdout.lower() and "Made by hand" in plan.stdout
    assert "CSV - Full Export" not in plan.stdout
    result = cli.apply()
    assert result.exit_code == 0, output(result)
    assert "adopted (marker written)" in result.stdout
    assert sorted(t.name for t in own_templates(site)) == ["Made by hand", "Weekly sales"]
    assert "No changes." in cli("plan").stdout
    cli.write([WEEKLY], prune="all")
    assert cli.apply().exit_code == 0
    assert [t.name for t in own_templates(site)] == ["Weekly sales"]
