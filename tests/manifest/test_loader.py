"""What a valid manifest turns into: defaults, SDK defaults, env, order, immutability."""

from pathlib import Path

import pytest

from reconciler.diagnostics import SourceLocation
from reconciler.errors import ManifestError
from reconciler.manifest import check_manifest, expand_paths, load_manifest
from reconciler.manifest.yaml_source import MAX_FILE_BYTES, parse_yaml
from reconciler.model import FrozenDict, Prune
from reconciler.providers.mammoth.model import DataviewRef

EXAMPLE = Path(__file__).parents[2] / "examples" / "exports.yaml"
HEADER = """version: 1
dataviews:
  - workspace_id: 1
    project_id: 1
    dataset_id: 123
    dataview_id: 456
    exports:
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def one_export(tmp_path: Path, export: str, *, defaults: str = "") -> Path:
    text = HEADER.replace("version: 1\n", f"version: 1\n{defaults}") + export
    return write(tmp_path, "m.yaml", text)


def test_the_example_loads_without_any_environment_variable() -> None:
    state = load_manifest([EXAMPLE], environ={})
    assert len(state.scopes) == 3
    assert state.entry_count() == 7


def test_sdk_defaults_fill_unset_target_fields_and_trigger_type(tmp_path: Path) -> None:
    path = one_export(
        tmp_path, "      - {key: a, handler_type: s3, target_properties: {file: a.csv}}\n"
    )
    export = load_manifest([path], environ={}).scopes[0].resources[0]
    assert export.target_properties == {
        "file": "a.csv",
        "file_type": "csv",
        "include_hidden": False,
        "is_format_set": True,
        "use_format": True,
    }
    assert export.trigger_type == "none"
    assert (export.end_of_pipeline, export.run_immediately, export.suspended) == (True, True, False)
    assert export.sequence is None


def test_internal_dataset_defaults_to_the_pipeline_trigger(tmp_path: Path) -> None:
    export_text = (
        "      - {key: d, handler_type: internal_dataset, target_properties: {dataset_name: x}}\n"
    )
    export = load_manifest([one_export(tmp_path, export_text)], environ={}).scopes[0].resources[0]
    assert export.trigger_type == "pipeline"


def test_defaults_merge_under_each_export_and_the_export_wins(tmp_path: Path) -> None:
    defaults = (
        "defaults:\n  trigger_type: pipeline\n  protect: true\n"
        "  condition: {region: eu, status: active}\n"
    )
    exports = (
        "      - {key: a, handler_type: s3, target_properties: {file: a.csv}}\n"
        "      - key: b\n        handler_type: s3\n        protect: false\n"
        "        condition: {status: closed}\n        target_properties: {file: b.csv}\n"
    )
    state = load_manifest([one_export(tmp_path, exports, defaults=defaults)], environ={})
    first, second = state.scopes[0].resources
    assert (first.trigger_type, first.protect) == ("pipeline", True)
    assert first.condition == {"region": "eu", "status": "active"}
    assert (second.trigger_type, second.protect) == ("pipeline", False)
    assert second.condition == {"region": "eu", "status": "closed"}


def test_env_references_resolve_and_are_recorded(tmp_path: Path) -> None:
    export_text = (
        "      - key: pg\n        handler_type: postgres\n        target_properties:\n"
        "          host: db.example.com\n          table: ${env:TABLE}_v2\n"
        "          username: writer\n          password: ${env:PW}\n"
        "          database: ${env:DATABASE:-analytics}\n"
    )
    path = one_export(tmp_path, export_text)
    export = (
        load_manifest([path], environ={"TABLE": "sales", "PW": "s3cret"}).scopes[0].resources[0]
    )
    assert export.target_properties["table"] == "sales_v2"
    assert export.target_properties["password"] == "s3cret"
    assert export.target_properties["database"] == "analytics"
    assert export.env_refs == {
        "target_properties.table": "${env:TABLE}_v2",
        "target_properties.password": "${env:PW}",
        "target_properties.database": "${env:DATABASE:-analytics}",
    }


def test_a_doubled_dollar_keeps_the_reference_literally(tmp_path: Path) -> None:
    export_text = "      - {key: a, handler_type: s3, target_properties: {file: '$${env:X}.csv'}}\n"
    export = load_manifest([one_export(tmp_path, export_text)], environ={}).scopes[0].resources[0]
    assert export.target_properties["file"] == "${env:X}.csv"
    assert export.env_refs == {}


def test_a_missing_variable_is_named_and_its_neighbours_values_never_shown(tmp_path: Path) -> None:
    export_text = (
        "      - key: pg\n        handler_type: postgres\n        target_properties:\n"
        "          host: ${env:CONN}\n          table: ${env:MISSING}\n"
        "          username: u\n          password: p\n          database: d\n"
    )
    with pytest.raises(ManifestError) as raised:
        load_manifest([one_export(tmp_path, export_text)], environ={"CONN": "hidden-value"})
    assert "MISSING" in raised.value.message
    assert "hidden-value" not in raised.value.message
    assert raised.value.message.endswith("1 error in the manifest.")


def test_a_directory_loads_its_yaml_files_in_name_order(tmp_path: Path) -> None:
    for name, view in (("b.yml", 2), ("a.yaml", 1), ("c.json", 3)):
        write(tmp_path, name, HEADER.replace("456", str(view)) + "      []\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "d.yaml", "not a manifest")
    write(tmp_path, ".pre-commit-hooks.yaml", "- id: not-a-manifest\n")
    state = load_manifest([tmp_path], environ={})
    assert [DataviewRef.of(dv.scope).dataview_id for dv in state.scopes] == [1, 2]
    assert state.sources == (str(tmp_path / "a.yaml"), str(tmp_path / "b.yml"))
    assert expand_paths([tmp_path, tmp_path / "a.yaml"]) == [
        tmp_path / "a.yaml",
        tmp_path / "b.yml",
    ]


def test_one_dataview_across_two_files_combines_its_exports(tmp_path: Path) -> None:
    write(
        tmp_path,
        "1.yaml",
        HEADER + "      - {key: a, handler_type: s3, target_properties: {file: a.csv}}\n",
    )
    write(
        tmp_path,
        "2.yaml",
        HEADER.replace("exports:", "prune: none\n    exports:")
        + "      - {key: b, handler_type: s3, target_properties: {file: b.csv}}\n",
    )
    (dataview,) = load_manifest([tmp_path], environ={}).scopes
    assert dataview.scope == DataviewRef(1, 1, 123, 456).scope
    assert [e.key for e in dataview.resources] == ["a", "b"]
    assert dataview.prune is Prune.NONE


def test_digest_hashes_the_raw_bytes_in_load_order(tmp_path: Path) -> None:
    path = one_export(tmp_path, "      []\n")
    first = load_manifest([path], environ={}).digest
    path.write_text(path.read_text() + "# a comment changes the digest\n")
    assert load_manifest([path], environ={}).digest != first
    assert len(first) == 64


def test_the_model_is_immutable_and_knows_where_each_export_is(tmp_path: Path) -> None:
    path = one_export(
        tmp_path, "      - {key: a, handler_type: s3, target_properties: {file: a.csv}}\n"
    )
    export = load_manifest([path], environ={}).scopes[0].resources[0]
    assert isinstance(export.target_properties, FrozenDict)
    with pytest.raises(TypeError):
        export.target_properties["file"] = "b.csv"  # type: ignore[index]
    with pytest.raises(AttributeError):
        export.key = "b"  # type: ignore[misc]
    assert export.location == SourceLocation(str(path), 8, 9)


def test_aliases_and_merge_keys_are_allowed_within_bounds(tmp_path: Path) -> None:
    text = HEADER + (
        "      - &base {key: a, handler_type: s3, target_properties: {file: a.csv}}\n"
        "      - <<: *base\n        key: b\n        target_properties: {file: b.csv}\n"
    )
    exports = load_manifest([write(tmp_path, "m.yaml", text)], environ={}).scopes[0].resources
    assert [(e.key, e.target_properties["file"]) for e in exports] == [
        ("a", "a.csv"),
        ("b", "b.csv"),
    ]


def test_a_file_larger_than_the_bound_is_refused_before_parsing() -> None:
    document = parse_yaml("big.yaml", b" " * (MAX_FILE_BYTES + 1))
    assert [str(d) for d in document.diagnostics] == [
        "big.yaml:1:1: the file is larger than 16 MiB; split it"
    ]


def test_a_missing_path_is_a_diagnostic_not_a_crash(tmp_path: Path) -> None:
    state, diagnostics = check_manifest([tmp_path / "nope.yaml"], environ={})
    assert state is None
    assert [str(d) for d in diagnostics] == [f"{tmp_path / 'nope.yaml'}: no such file or directory"]


def test_scope_addresses_are_told_before_the_entries_are_checked(tmp_path: Path) -> None:
    """``plan`` lists these while the check runs; the check still fails the load."""
    path = one_export(tmp_path, "      - {key: a, handler_type: nope}\n")
    told: list[list[object]] = []
    state, diagnostics = check_manifest([path], environ={}, on_scopes_ahead=told.append)
    assert told == [[DataviewRef(1, 1, 123, 456).scope]]
    assert state is None
    assert diagnostics


def test_only_dataviews_written_with_four_integer_ids_are_told_ahead(tmp_path: Path) -> None:
    text = HEADER + "      - {key: a, handler_type: s3, target_properties: {file: a.csv}}\n"
    text += "  - {workspace_id: 1, project_id: 1, dataset_id: x, dataview_id: 9, exports: []}\n"
    told: list[list[object]] = []
    check_manifest([write(tmp_path, "m.yaml", text)], environ={}, on_scopes_ahead=told.append)
    assert told == [[DataviewRef(1, 1, 123, 456).scope]]
