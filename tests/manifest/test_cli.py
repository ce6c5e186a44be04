"""``exportctl validate`` and ``exportctl schema`` through the real command group."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from reconciler._resources import load_schema
from reconciler.cli.main import cli
from reconciler.cli.schema_cmd import types_with_schema

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "exports.yaml"
BROKEN = Path(__file__).parent / "broken"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_prints_a_one_line_summary_and_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PG_WRITER_PASSWORD", raising=False)
    assert run("validate", "-f", str(EXAMPLE)) == (
        0,
        "Valid: 3 dataviews, 7 exports in 1 file.\n",
        "",
    )


def test_every_file_the_examples_directory_gives_to_f_is_a_manifest() -> None:
    """``-f examples/`` reads the example manifests together; the sandbox seed, which is
    no manifest, sits in a subdirectory that ``-f`` does not read."""
    code, out, err = run("validate", "-f", str(ROOT / "examples"), "--skip-env")
    assert (code, err) == (0, ""), err
    assert out.endswith(" in 4 files.\n")


def test_validate_lists_every_error_and_exits_1() -> None:
    code, out, err = run("validate", "-f", str(BROKEN / "many_errors_sorted.yaml"))
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert len(lines) == 5
    assert lines[0].endswith('dataviews[0].project_id: expected an integer, got "one"')
    assert lines[-1] == "Invalid: 4 errors."


def test_validate_json_is_for_machines() -> None:
    code, out, _ = run("validate", "-f", str(BROKEN / "version_wrong.yaml"), "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert (report["format_version"], report["valid"]) == ("2.0", False)
    assert report["files"] == [str(BROKEN / "version_wrong.yaml")]
    assert report["diagnostics"] == [
        {
            "severity": "error",
            "file": str(BROKEN / "version_wrong.yaml"),
            "line": 1,
            "column": 10,
            "path": "version",
            "message": "unsupported version 2; this exportctl reads version 1",
        }
    ]


@pytest.mark.parametrize(
    "manifest",
    [EXAMPLE, *sorted(BROKEN.glob("*.yaml"))],
    ids=lambda path: path.name,
)
def test_validate_json_matches_its_schema(manifest: Path) -> None:
    code, out, _ = run("validate", "-f", str(manifest), "--format", "json", "--skip-env")
    report = json.loads(out)
    jsonschema.Draft202012Validator(load_schema("validate-result.schema.json")).validate(report)
    assert code == (0 if report["valid"] else 1)
    assert bool(report["diagnostics"]) != report["valid"]


def test_schema_prints_a_self_contained_schema_the_example_satisfies() -> None:
    code, out, _ = run("schema")
    schema = json.loads(out)
    assert code == 0
    assert '"$ref": "targets/' not in out
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(EXAMPLE.read_text()))) == []
    broken = yaml.safe_load(EXAMPLE.read_text())
    broken["dataviews"][0]["exports"][0]["target_properties"]["fle"] = "x"
    assert len(list(validator.iter_errors(broken))) == 1


def test_schema_target_prints_one_handler_schema() -> None:
    code, out, _ = run("schema", "--target", "bigquery")
    assert code == 0
    assert json.loads(out)["x-exportctl-address"] == ["selected_profile", "database", "table"]


def test_schema_type_and_its_older_name_target_print_the_same() -> None:
    assert run("schema", "--type", "s3") == run("schema", "--target", "s3")


def test_schema_help_says_target_takes_a_type_and_lists_them() -> None:
    """--target is a selector on plan, drift and apply; here it is a type, which help says."""
    code, out, _ = run("schema", "--help")
    text = " ".join(out.split())
    listed = text.split("TYPE is one of: ")[1].split(". ")[0].rstrip(".").split(", ")
    assert (code, "takes a type, not a selector" in text) == (0, True), text
    assert listed == types_with_schema()
    assert {"s3", "bigquery"} <= set(listed)


def test_schema_given_a_selector_says_it_takes_a_type() -> None:
    code, _, err = run("schema", "--target", "key=monthly-sales")
    assert code == 1
    assert err.startswith(
        "Error: No provider has a type 'key=monthly-sales'. schema --type (or --target) "
        "takes a type, not a selector. Types with a schema: postgres, "
    )


def test_validate_skip_env_accepts_unset_variables_but_still_checks_their_syntax(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    manifest = tmp_path / "exports.yaml"
    manifest.write_text(
        "version: 1\n"
        "dataviews:\n"
        "  - {workspace_id: 1, project_id: 1, dataset_id: 2, dataview_id: 3,\n"
        "     exports: [{key: pg, handler_type: postgres,\n"
        "                target_properties: {host: h, database: d, table: t, username: u,\n"
        "                                    password: '${env:NOT_SET_ANYWHERE}'}}]}\n"
    )
    assert run("validate", "-f", str(manifest))[0] == 1
    assert run("validate", "--skip-env", "-f", str(manifest)) == (
        0,
        "Valid: 1 dataview, 1 export in 1 file.\n",
        "",
    )
    manifest.write_text(manifest.read_text().replace("${env:NOT_SET_ANYWHERE}", "${env:}"))
    code, _, err = run("validate", "--skip-env", "-f", str(manifest))
    assert code == 1
    assert "malformed reference" in err


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_file_of_thousands_of_mistakes_shows_the_first_ones_and_a_count(
    tmp_path: Path, command: str
) -> None:
    unknown = "\n".join(f"  unknown_{i}: {i}" for i in range(5000))
    export = "{key: a, handler_type: s3, trigger_type: none, target_properties: {file: a.csv}}"
    path = tmp_path / "huge.yaml"
    path.write_text(
        "version: 1\ndataviews:\n- workspace_id: 1\n  project_id: 1\n  dataset_id: 2\n"
        f"  dataview_id: 3\n  exports: [{export}]\n{unknown}\n"
    )
    args = [command, "-f", str(path)] + (
        ["--sandbox", str(tmp_path / "s.db")] * (command == "plan")
    )
    code, _, err = run(*args)
    lines = err.splitlines()
    assert code == 1
    assert len(lines) <= 53, lines[-3:]
    assert "unknown_0" in lines[0]
    assert "... and 4950 more, not shown." in lines
