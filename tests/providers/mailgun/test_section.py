"""The ``mailgun:`` manifest section's JSON Schema (its loading: ``test_manifest``)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler._resources import load_schema
from reconciler.providers.mailgun.kinds import MaxAgeError, parse_max_age
from reconciler.providers.mailgun.section import section_schema

SCHEMA = section_schema()
VALIDATOR = Draft202012Validator(SCHEMA)
SNAPSHOT = SCHEMA["$defs"]["mailgun_snapshot"]
STRING_MAX_AGE = SNAPSHOT["properties"]["max_age"]["oneOf"][0]["pattern"]


def errors(instance: Any) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(instance)]


def test_the_schema_is_valid_draft_2020_12_with_its_examples() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for example in SCHEMA["examples"]:
        assert errors(example) == []
    for name, field in SNAPSHOT["properties"].items():
        assert field["description"], name
        for example in field["examples"]:
            assert not list(Draft202012Validator(field).iter_errors(example)), (name, example)


def test_keys_follow_the_manifests_key_rule() -> None:
    export_key = load_schema("manifest.schema.json")["$defs"]["export"]["properties"]["key"]
    assert SNAPSHOT["properties"]["key"]["pattern"] == export_key["pattern"]


@pytest.mark.parametrize(
    ("instance", "message"),
    [
        ({}, "'snapshots' is a required property"),
        ({"snapshots": [], "extra": 1}, "Additional properties"),
        ({"snapshots": [{"key": "d", "url": "/v3/domains"}]}, "'max_age' is a required"),
        (
            {"snapshots": [{"key": "d", "url": "domains", "max_age": "6h", "format": "csv"}]},
            "Additional properties",
        ),
        ({"snapshots": [{"key": "D!", "url": "domains", "max_age": "6h"}]}, "does not match"),
        ({"snapshots": [{"key": "d", "url": "my domains", "max_age": "6h"}]}, "does not match"),
        ({"snapshots": [{"key": "d", "url": "domains", "max_age": "6 hours"}]}, "is not valid"),
        ({"snapshots": [{"key": "d", "url": "domains", "max_age": 90000}]}, "is not valid"),
        (
            {"snapshots": [{"key": "d", "url": "domains", "max_age": "6h", "download": ""}]},
            "non-empty",
        ),
    ],
)
def test_the_schema_refuses_what_the_section_cannot_hold(instance: Any, message: str) -> None:
    assert any(message in text for text in errors(instance)), errors(instance)


@given(st.from_regex(STRING_MAX_AGE, fullmatch=True))
def test_every_max_age_the_schema_allows_parses_or_says_why_not(text: str) -> None:
    try:
        seconds = parse_max_age(text)
    except MaxAgeError as error:
        assert re.search("longer than 24h|longer than 0", str(error))
    else:
        assert 0 < seconds <= 24 * 3600
