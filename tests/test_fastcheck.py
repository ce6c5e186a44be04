"""The fast yes/no check agrees with jsonschema, or is stricter (never more lenient)."""

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.fastcheck import compile_schema
from reconciler.manifest.schema_check import manifest_validator, target_validator

NAMES = ["key", "handler_type", "s3", "file", "file_type", "csv", "version", "dataviews"]
NAMES += ["exports", "connection_id", "table_name", "password", "username", "prune", "all"]
values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 3) | st.sampled_from(NAMES),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(NAMES), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["s3", "postgres", "email", "bigquery"]), values)
def test_target_fast_check_is_never_more_lenient_than_jsonschema(
    handler: str, value: object
) -> None:
    checker = target_validator(handler)
    if checker.is_valid(value):
        assert checker.validator.is_valid(value)


@settings(max_examples=300, deadline=None)
@given(values)
def test_manifest_fast_check_is_never_more_lenient_than_jsonschema(value: object) -> None:
    document = {"version": 1, "dataviews": [{"workspace_id": 1, "project_id": 1,
                "dataset_id": 1, "dataview_id": 1, "exports": [value]}]}  # fmt: skip
    checker = manifest_validator()
    assert checker.is_valid(document) == checker.validator.is_valid(document)


def test_an_unknown_keyword_makes_the_fast_check_defer_to_jsonschema() -> None:
    schema = {"type": "string", "format": "email"}
    assert compile_schema(schema)("someone@example.com") is False
    assert jsonschema.Draft202012Validator(schema).is_valid("someone@example.com")
