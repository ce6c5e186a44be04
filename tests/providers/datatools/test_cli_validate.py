"""``exportctl validate`` of ``datatools:``: a good manifest, and every problem at its place."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli.main import cli
from tests.providers.datatools.cli_support import embedded_cli, snapshot, template

BROKEN = Path(__file__).parent / "broken" / "many.yaml"
EXAMPLE = Path(__file__).parents[3] / "examples" / "datatools.yaml"


def test_the_example_and_a_small_manifest_are_valid(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["validate", "-f", str(EXAMPLE)]).exit_code == 0
    small = embedded_cli(tmp_path)
    small.write([template("weekly", "Weekly")], [snapshot("sales", filters={"limit": 3})])
    result = small.validate()
    assert result.exit_code == 0, result.output
    assert result.stdout == "Valid: 1 data-tools user, 1 template, 1 export job in 1 file.\n"


def test_every_problem_is_reported_at_its_file_line_and_column() -> None:
    result = CliRunner().invoke(cli, ["validate", "-f", str(BROKEN)], env={"DT_NOT_SET": None})
    assert result.exit_code == 1, result.output
    where = str(BROKEN)
    assert result.output.splitlines() == [
        f'{where}:3:10: datatools.prune: expected one of managed, all, none; got "some"',
        f"{where}:8:36: datatools.templates[0].configuration.exportctl: unknown field "
        "'exportctl'; expected one of: format, filters, options",
        f"{where}:9:12: datatools.templates[1].key: template key 'weekly' is already used at "
        f"{where}:5:7; keys must be unique within datatools.templates",
        f"{where}:10:13: datatools.templates[1].name: template name 'Weekly' is already used "
        f"at {where}:5:7; names are unique per user on the server",
        f"{where}:11:22: datatools.templates[1].template_type: expected one of user, shared, "
        'system; got "personal"',
        f'{where}:12:31: datatools.templates[1].configuration.format: "tsv" is not valid: use '
        "csv, json, parquet or excel (in any case)",
        f"{where}:17:16: datatools.snapshots[0].max_age: max_age '0m' must be longer than zero",
        f"{where}:18:7: datatools.snapshots[1]: this snapshot requests the same export as "
        f"snapshot 'sales' at {where}:14:7; the two would share their runs: merge them",
        f"{where}:22:7: datatools.snapshots[1].colour: unknown field 'colour'; expected one of: "
        "key, datasource, format, filters, max_age, keep, download",
        f'{where}:24:19: datatools.snapshots[2].datasource: "${{env:DT_NOT_SET}}" is not valid: '
        "use the datasource's id, a UUID like 5a1e5000-0000-4000-8000-000000000001",
        f"{where}:24:19: datatools.snapshots[2].datasource: environment variable DT_NOT_SET is "
        "not set; set it (a value that is not a secret may also have a fallback: "
        "${env:DT_NOT_SET:-...})",
        "Invalid: 11 errors.",
    ]


def test_the_bundled_schema_holds_the_section_under_its_own_names() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["properties"]["datatools"] == {"$ref": "#/$defs/datatools_section"}
    section = schema["$defs"]["datatools_section"]
    assert section["properties"]["templates"]["items"] == {"$ref": "#/$defs/datatools_template"}
    assert "prune" in section["properties"]
