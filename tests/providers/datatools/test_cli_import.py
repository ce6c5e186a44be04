"""``exportctl import datatools``: a manifest that plan finds true except for adoptions."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.providers.datatools.cli_support import output, snapshot, socket_cli
from tests.providers.datatools.support import Browser, Site


def test_import_then_plan_shows_only_adoptions(site: Site, tmp_path: Path) -> None:
    with Browser(site) as browser:
        browser.log_in()
        body = {
            "name": "By hand",
            "configuration": {"format": "CSV", "filters": {"limit": 0, "columns": ["a"]}},
        }
        assert (
            browser.write("POST", "/tools/api/v1/export-templates/", json=body).status_code == 201
        )
    cli = socket_cli(site, tmp_path)
    cli.write(snapshots=[snapshot("sales", filters={"limit": 4})])
    assert cli.apply().exit_code == 0
    imported = tmp_path / "imported.yaml"
    result = cli.raw("import", "datatools", "--out", str(imported))
    assert result.exit_code == 0, output(result)
    assert "Imported 1 templates and 1 snapshots of user 'sandbox'" in result.stderr
    section = yaml.safe_load(imported.read_text())["datatools"]
    assert section["templates"] == [
        {
            "key": "by-hand",
            "name": "By hand",
            "template_type": "user",
            "configuration": {"format": "csv", "filters": {"columns": ["a"]}},
        }
    ]  # never other users' system or shared templates
    assert [(s["key"], s["filters"], s["max_age"]) for s in section["snapshots"]] == [
        ("sales-csv", {"limit": 4}, "1d")
    ]
    plan = cli.raw("plan", "-f", str(imported), "--format", "json")
    actions = [c["action"] for s in json.loads(plan.stdout)["scopes"] for c in s["changes"]]
    assert actions == ["adopt", "fresh"]
    assert cli.raw("import", "datatools", "--out", str(imported)).exit_code == 1  # never overwrites
