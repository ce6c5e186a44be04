"""Pure rules of import: keys from destinations, collisions, variable names, escaping."""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml

from reconciler.model import LiveScope
from reconciler.providers.mammoth.importer import (
    KEY_PATTERN,
    assign_keys,
    base_key,
    env_var_name,
    render_manifest,
)
from reconciler.providers.mammoth.model import DataviewRef, LiveExport

REF = DataviewRef(1, 1, 123, 456)


def live(export_id: int, handler: str, target: dict[str, Any], **extra: Any) -> LiveExport:
    record = {
        "id": export_id,
        "handler_type": handler,
        "trigger_type": "none",
        "status": "executed",
        "end_of_pipeline": True,
        "target_properties": target,
        **extra,
    }
    return LiveExport.from_api(record)


def marked(export_id: int, key: str, file: str) -> LiveExport:
    marker = {"exportctl": {"key": key, "applied": "v1:ab:cd:ef"}}
    return live(export_id, "s3", {"file": file}, additional_properties=marker)


@pytest.mark.parametrize(
    ("handler", "target", "expected"),
    [
        ("s3", {"file": "monthly_sales.csv"}, "s3-monthly-sales-csv"),
        (
            "postgres",
            {"host": "pg.example.com", "database": "analytics", "table": "customer_exports"},
            "postgres-analytics-customer-exports",
        ),
        ("postgres", {"host": "pg", "port": 5432, "table": "t"}, "postgres-t"),
        (
            "internal_dataset",
            {"dataset_name": "Ventes été 2024"},
            "internal-dataset-ventes-ete-2024",
        ),
        (
            "email",
            {"emails": ["b@x.io", "a@x.io"], "subject": "Hi"},
            "email-a-x-io-b-x-io-hi",
        ),
        (
            "generic_rest_api_export",
            {"base_url": "https://h.io", "endpoint_path": "/in", "http_method": "POST"},
            "generic-rest-api-export-h-io-in-post",
        ),
        ("s3", {"file": "___"}, "s3-7"),
        ("s3", {}, "s3-7"),
    ],
)
def test_base_key_names_the_destination(
    handler: str, target: dict[str, Any], expected: str
) -> None:
    assert base_key(handler, target, 7) == expected


def test_a_long_destination_is_cut_to_a_valid_key() -> None:
    key = base_key("s3", {"file": "x" * 100 + ".csv"}, 1)
    assert key == "s3-" + "x" * 60
    assert KEY_PATTERN.match(key)


def test_colliding_keys_get_suffixes_by_export_id() -> None:
    exports = [
        live(9, "s3", {"file": "a b.csv"}),
        live(3, "s3", {"file": "a_b.csv"}),
        live(5, "s3", {"file": "a-b.csv"}),
        live(4, "s3", {"file": "a.b.csv"}, status="deleted"),
    ]
    keys, left_out = assign_keys(exports)
    assert keys == {3: "s3-a-b-csv", 5: "s3-a-b-csv-2", 9: "s3-a-b-csv-3"}
    assert left_out == []


def test_a_suffix_on_a_63_char_key_keeps_it_valid() -> None:
    file = "y" * 80
    keys, _ = assign_keys([live(1, "s3", {"file": file}), live(2, "s3", {"file": file + "!"})])
    assert keys[2] == "s3-" + "y" * 58 + "-2"
    assert all(KEY_PATTERN.match(k) for k in keys.values())


def test_marker_keys_are_kept_and_win_over_derived_ones() -> None:
    exports = [live(1, "s3", {"file": "a.csv"}), marked(2, "s3-a-csv", "other.csv")]
    keys, _ = assign_keys(exports)
    assert keys == {1: "s3-a-csv-2", 2: "s3-a-csv"}


def test_a_duplicated_marker_key_keeps_the_lowest_id_and_leaves_the_rest_out() -> None:
    keys, left_out = assign_keys([marked(8, "sales", "a.csv"), marked(4, "sales", "a.csv")])
    assert keys == {4: "sales"}
    assert left_out == [
        (
            8,
            "a duplicate of key 'sales', kept by export 4; the plan deletes it, "
            "as it deletes every duplicate exportctl made",
        )
    ]


def test_a_marker_key_the_manifest_would_reject_is_replaced_by_a_derived_one() -> None:
    keys, _ = assign_keys([marked(1, "Not A Key!", "a.csv")])
    assert keys == {1: "s3-a-csv"}


@pytest.mark.parametrize(
    ("key", "path", "expected"),
    [
        (
            "postgres-analytics",
            "target_properties.password",
            "EXPORTCTL_456_POSTGRES_ANALYTICS_PASSWORD",
        ),
        (
            "rest.hook_1",
            "target_properties.headers.X-API-Token",
            "EXPORTCTL_456_REST_HOOK_1_HEADERS_X_API_TOKEN",
        ),
        ("x", "additional_properties.api_key", "EXPORTCTL_456_X_ADDITIONAL_PROPERTIES_API_KEY"),
    ],
)
def test_env_var_names_are_upper_snake_case(key: str, path: str, expected: str) -> None:
    assert env_var_name(REF, key, path) == expected


def test_two_secrets_mapping_to_one_name_get_distinct_variables() -> None:
    target = {"host": "h", "database": "d", "username": "u", "password": "********"}
    exports = (
        live(1, "postgres", {**target, "table": "a_b"}),
        live(2, "postgres", {**target, "table": "a-b"}),
    )
    result = render_manifest([LiveScope(REF.scope, exports)], source="test")
    assert [v.name for v in result.variables] == [
        "EXPORTCTL_456_POSTGRES_D_A_B_PASSWORD",
        "EXPORTCTL_456_POSTGRES_D_A_B_2_PASSWORD",
    ]


def exports_of(text: str) -> list[dict[str, Any]]:
    document = yaml.safe_load(text)
    exports: list[dict[str, Any]] = document["dataviews"][0]["exports"]
    return exports


def test_render_leaves_defaults_out_and_keeps_what_differs() -> None:
    export = live(
        1,
        "s3",
        {"file": "a.csv", "file_type": "csv", "use_format": False, "include_hidden": None},
        end_of_pipeline=False,
        condition={},
        status="suspending",
        sequence=3,
    )
    text = render_manifest([LiveScope(REF.scope, (export,))], source="test").text
    assert exports_of(text) == [
        {
            "key": "s3-a-csv",
            "handler_type": "s3",
            "trigger_type": "none",
            "target_properties": {"file": "a.csv", "use_format": False},
            "sequence": 3,
            "suspended": True,
        }
    ]


def test_render_escapes_env_references_found_in_live_text() -> None:
    extra = {"note": "${env:HOME} and $${env:X}", "exportctl": {"key": "k", "applied": ""}}
    export = live(1, "s3", {"file": "a.csv"}, additional_properties=extra)
    text = render_manifest([LiveScope(REF.scope, (export,))], source="test").text
    assert exports_of(text)[0]["additional_properties"] == {"note": "$${env:HOME} and $$${env:X}"}


def test_exports_naming_no_destination_or_an_unknown_handler_are_left_out() -> None:
    exports = (live(1, "s3", {}), live(2, "teleport", {"x": 1}), live(3, "s3", {"file": "a.csv"}))
    result = render_manifest([LiveScope(REF.scope, exports)], source="test")
    assert [e["key"] for e in exports_of(result.text)] == ["s3-a-csv"]
    assert [(s.export_id, s.reason) for s in result.skipped] == [
        (
            1,
            "it names no destination, so plan could not match it to a manifest entry "
            "(it would add a second export)",
        ),
        (2, "handler_type 'teleport' is not one exportctl knows"),
    ]
    assert "      # export 2 not imported: handler_type 'teleport' is not one" in result.text


def test_output_does_not_depend_on_listing_order() -> None:
    other = DataviewRef(1, 1, 123, 400)
    exports = [live(i, "s3", {"file": f"f{i % 3}.csv"}) for i in range(1, 10)]
    shuffled = exports[:]
    random.Random(4).shuffle(shuffled)
    first = render_manifest(
        [LiveScope(REF.scope, tuple(exports)), LiveScope(other.scope, ())], source="s"
    )
    second = render_manifest(
        [LiveScope(other.scope, ()), LiveScope(REF.scope, tuple(shuffled))], source="s"
    )
    assert first == second
    assert first.text.index("dataview_id: 400") < first.text.index("dataview_id: 456")
