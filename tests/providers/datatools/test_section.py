"""The ``datatools:`` section's JSON Schema, its examples, and validate's warnings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from reconciler.manifest import load_manifest
from reconciler.providers.datatools import snapshots, templates
from reconciler.providers.datatools.section import (
    SectionWarning,
    section_schema,
    section_warnings,
)

SCHEMA = section_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SALES = "5a1e5000-0000-4000-8000-000000000001"
TEMPLATE = {"key": "t", "name": "T", "template_type": "user", "configuration": {"format": "csv"}}
SNAPSHOT = {"key": "s", "datasource": SALES, "format": "csv", "max_age": "6h"}


def errors(document: Any) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(document)]


def test_the_schema_is_a_valid_2020_12_schema_and_its_examples_pass() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for example in SCHEMA["examples"]:
        assert errors(example) == []
    for name, definition in SCHEMA["$defs"].items():
        resolved = {**definition, "$defs": SCHEMA["$defs"]}
        for example in definition.get("examples", ()):
            problems = list(jsonschema.Draft202012Validator(resolved).iter_errors(example))
            assert problems == [], name


def test_every_object_of_ours_refuses_unknown_fields() -> None:
    assert errors({"template": []}) != []
    assert errors({"templates": [{**TEMPLATE, "protect": True}]}) != []
    assert errors({"snapshots": [{**SNAPSHOT, "options": {}}]}) != []
    marker = {"format": "csv", "exportctl": {"key": "x"}}  # the marker's place is reserved
    assert errors({"templates": [{**TEMPLATE, "configuration": marker}]}) != []


@pytest.mark.parametrize(
    "entry",
    [
        {k: v for k, v in TEMPLATE.items() if k != "template_type"},
        {**TEMPLATE, "key": "Has Spaces"},
        {**TEMPLATE, "name": "   "},
        {**TEMPLATE, "template_type": "team"},
        {**TEMPLATE, "configuration": {"format": "xml"}},
        {**TEMPLATE, "configuration": {"format": "csv", "filters": {"limit": -1}}},
        {**TEMPLATE, "configuration": {"format": "csv", "filters": {"columns": "a"}}},
        {**TEMPLATE, "configuration": {"format": "csv", "filters": {"date_range": {"start": "a"}}}},
    ],
)
def test_templates_the_server_would_refuse_are_refused(entry: dict[str, Any]) -> None:
    assert errors({"templates": [entry]}) != []


@pytest.mark.parametrize(
    "entry",
    [
        {**SNAPSHOT, "datasource": "sales"},
        {**SNAPSHOT, "format": "xlsx"},
        {**SNAPSHOT, "max_age": "6 hours"},
        {**SNAPSHOT, "keep": 0},
        {**SNAPSHOT, "download": ""},
        {k: v for k, v in SNAPSHOT.items() if k != "max_age"},
    ],
)
def test_snapshots_that_cannot_work_are_refused(entry: dict[str, Any]) -> None:
    assert errors({"snapshots": [entry]}) != []


def test_formats_are_case_insensitive_as_on_the_server() -> None:
    assert errors({"snapshots": [{**SNAPSHOT, "format": "Parquet"}]}) == []


@given(st.from_regex(SCHEMA["$defs"]["snapshot"]["properties"]["max_age"]["pattern"]))
def test_every_max_age_the_schema_accepts_parses(text: str) -> None:
    try:
        assert snapshots.parse_max_age(text).total_seconds() > 0
    except ValueError as refused:  # only for a zero or an absurd length, in words
        assert str(refused).endswith(("must be longer than zero", "than any clock can count"))


def test_the_example_section_becomes_specs() -> None:
    example = SCHEMA["examples"][0]
    template = templates.template_spec(example["templates"][0])
    entry = example["snapshots"][0]
    request = snapshots.snapshot_request(entry["datasource"], entry["format"], entry["filters"])
    assert (template.key, template.configuration["format"]) == ("weekly-sales", "csv")
    assert request.body() == {
        "datasource": "5a1e5000-0000-4000-8000-000000000001",
        "format": "parquet",
        "filters": {"columns": ["region", "amount"]},
    }
    assert section_warnings(example) == []


def test_validate_warns_about_what_the_server_drops_or_ignores() -> None:
    section = {
        "templates": [
            {**TEMPLATE, "configuration": {"format": "csv", "filters": {"include_headers": True}}}
        ],
        "snapshots": [{**SNAPSHOT, "filters": {"date_range": {}, "group_by": "region"}}],
    }
    assert errors(section) == []
    assert section_warnings(section) == [
        SectionWarning(
            ("datatools", "templates", 0, "configuration", "filters", "include_headers"),
            "the server keeps only columns, where_conditions, limit, order_by, group_by, "
            "date_range",
        ),
        SectionWarning(
            ("datatools", "snapshots", 0, "filters", "date_range"),
            "the server keeps only columns, where_conditions, limit, offset, order_by, group_by",
        ),
        SectionWarning(
            ("datatools", "snapshots", 0, "filters", "group_by"),
            "stored, but the worker ignores it",
        ),
    ]


def test_validate_shows_the_warnings_where_they_are_written_and_passes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reconciler.cli.main import cli

    manifest = tmp_path / "datatools.yaml"
    manifest.write_text(
        "version: 1\n"
        "datatools:\n"
        "  templates:\n"
        "    - key: weekly\n"
        "      name: Weekly\n"
        "      template_type: user\n"
        "      configuration:\n"
        "        format: csv\n"
        "        filters: {include_headers: true}\n"
    )
    result = CliRunner().invoke(cli, ["validate", "-f", str(manifest)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"{manifest}:9:19: datatools.templates[0].configuration.filters.include_headers: "
        "warning: the server keeps only columns, where_conditions, limit, order_by, group_by, "
        "date_range"
    ]
    assert result.stdout.startswith("Valid: ")


def test_plan_shows_the_manifests_warnings_too(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reconciler.cli.main import cli

    manifest = tmp_path / "datatools.yaml"
    manifest.write_text(
        "version: 1\n"
        "datatools:\n"
        "  templates:\n"
        "    - key: weekly\n"
        "      name: Weekly\n"
        "      template_type: user\n"
        "      configuration:\n"
        "        format: csv\n"
        "        filters: {include_headers: true}\n"
    )
    result = CliRunner().invoke(
        cli, ["plan", "-f", str(manifest), "--sandbox", str(tmp_path / "s.db")]
    )
    assert result.exit_code == 0, result.output
    assert (
        f"{manifest}:9:19: datatools.templates[0].configuration.filters.include_headers: warning:"
        in result.stderr
    )
    assert "+ weekly (user)" in result.stdout


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"unmanaged": "information"}, "information"),
        ({"prune": "none"}, "drift"),
    ],
)
def test_the_section_says_whether_unmanaged_templates_are_drift(
    tmp_path: Path, section: dict[str, str], expected: str
) -> None:
    manifest = tmp_path / "exports.yaml"
    body = {**section, "templates": [TEMPLATE]}
    manifest.write_text(yaml.safe_dump({"version": 1, "datatools": body}), encoding="utf-8")
    (spec,) = load_manifest([str(manifest)]).scopes
    assert spec.unmanaged.value == expected
