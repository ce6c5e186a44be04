"""The ``domo:`` section's JSON Schema: what it lets through and what it refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from reconciler._resources import load_schema
from reconciler.fastcheck import compile_schema
from reconciler.manifest import envsubst
from reconciler.providers.domo.entries import entry_from_manifest
from reconciler.providers.domo.kinds import request_of

SCHEMA = load_schema("domo/s3_exports.schema.json")
VALIDATOR = Draft202012Validator(SCHEMA)
FAST = compile_schema(SCHEMA)
EXAMPLE: dict[str, Any] = SCHEMA["examples"][0]


def valid(section: Any) -> bool:
    verdict = bool(VALIDATOR.is_valid(section))
    assert FAST(section) == verdict  # the core's fast check agrees
    return verdict


def with_entry(**changes: Any) -> dict[str, Any]:
    section = copy.deepcopy(EXAMPLE)
    section["s3_exports"][0].update(changes)
    return section


def with_credentials(**changes: Any) -> dict[str, Any]:
    credentials = {**EXAMPLE["s3_exports"][0]["credentials"], **changes}
    return with_entry(credentials={k: v for k, v in credentials.items() if v is not None})


def test_the_schema_is_draft_2020_12_and_its_examples_are_valid() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert all(valid(example) for example in SCHEMA["examples"])


def test_the_example_reads_as_an_entry_once_its_references_are_resolved() -> None:
    environ = {
        "DOMO_EXPORT_AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "DOMO_EXPORT_AWS_SECRET_ACCESS_KEY": "secret",
        "DOMO_EXPORT_AWS_SESSION_TOKEN": "token",
    }
    raw = EXAMPLE["s3_exports"][0]
    resolved_credentials = {k: envsubst.resolve(v, environ) for k, v in raw["credentials"].items()}
    entry = entry_from_manifest({**raw, "credentials": resolved_credentials})
    assert entry.request.credentials.secret_key == "secret"
    assert request_of(entry.request)["query"]["columns"] == (
        {"column": "Region", "exprType": "COLUMN"},
        {"column": "Sales", "exprType": "COLUMN"},
    )


@pytest.mark.parametrize(
    "value",
    [
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",  # a literal secret
        "${env:AWS_SECRET:-wJalrXUtnFEMI}",  # a fallback is a literal secret too
        "$${env:AWS_SECRET}",  # an escaped reference is literal text
        "prefix-${env:AWS_SECRET}",
        "${env:1BAD}",
        "",
    ],
)
def test_credentials_must_be_env_references(value: str) -> None:
    assert not valid(with_credentials(secret_key=value))


def test_session_token_and_kms_key_are_optional_access_and_secret_keys_are_not() -> None:
    assert valid(with_credentials(session_token=None, kms_key="${env:KMS_KEY_ID}"))
    assert not valid(with_credentials(access_key=None))
    assert not valid(with_credentials(password="${env:X}"))


@pytest.mark.parametrize("missing", ["key", "dataset_id", "bucket", "path", "region", "max_age"])
def test_required_fields(missing: str) -> None:
    section = copy.deepcopy(EXAMPLE)
    del section["s3_exports"][0][missing]
    assert not valid(section)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("key", "Daily Sales"),
        ("dataset_id", "12345"),
        ("bucket", "Acme_Exports"),
        ("bucket", "ab"),
        ("path", "/domo/sales"),
        ("path", "domo//sales"),
        ("path", "domo/sales/"),
        ("region", "US-EAST-1"),
        ("max_age", "6"),
        ("max_age", "6 hours"),
        ("max_age", ""),
        ("include_bom", "yes"),
        ("query", {"columns": []}),
        ("query", {"columns": ["Region"], "limit": 10}),
        ("query", {"order_by": ["Region"]}),
        ("extra", True),
    ],
)
def test_entry_fields_are_checked(field: str, value: Any) -> None:
    assert not valid(with_entry(**{field: value}))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("path", "exports"),
        ("bucket", "acme.exports-2024"),
        ("max_age", "1d12h"),
        ("include_bom", True),
        ("query", {"columns": [{"column": "Sales", "exprType": "COLUMN"}], "where": {}}),
    ],
)
def test_valid_variations_pass(field: str, value: Any) -> None:
    assert valid(with_entry(**{field: value}))


def test_the_section_takes_nothing_but_s3_exports() -> None:
    assert not valid({**EXAMPLE, "datasets": []})
    assert not valid({})
    assert valid({"s3_exports": []})


def test_every_property_is_described() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                assert "description" in sub or "$ref" in sub, f"{where}.{name}"
            for name, sub in node.items():
                walk(sub, f"{where}.{name}")

    walk(SCHEMA, "$")
