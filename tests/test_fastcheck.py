"""The fast yes/no check agrees with jsonschema, or is stricter (never more lenient)."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler._resources import load_schema
from reconciler.fastcheck import compile_schema
from reconciler.plan_json import plan_to_json
from reconciler.planfile import _fast_envelope_check, _validator, save_plan
from reconciler.providers.mammoth.manifest import sections_validator, target_validator
from tests.render.plans import every_action_plan, in_sync_plan

NAMES = ["key", "handler_type", "s3", "file", "file_type", "csv", "version", "dataviews"]
NAMES += ["exports", "host", "table", "password", "username", "prune", "all"]
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
    checker = sections_validator()
    assert checker.is_valid(document) == checker.validator.is_valid(document)


def test_an_unknown_keyword_makes_the_fast_check_defer_to_jsonschema() -> None:
    schema = {"type": "string", "format": "email"}
    assert compile_schema(schema)("someone@example.com") is False
    assert jsonschema.Draft202012Validator(schema).is_valid("someone@example.com")


def _mutations(value: Any) -> Iterator[Any]:
    """Copies of ``value`` with one part removed, added or replaced by a wrong kind."""
    yield from (wrong for wrong in WRONG if wrong != value or type(wrong) is not type(value))
    if isinstance(value, dict):
        yield {**value, "unexpected": 1}
        for name, item in value.items():
            yield {k: v for k, v in value.items() if k != name}
            yield from ({**value, name: changed} for changed in _mutations(item))
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield [*value[:index], *value[index + 1 :]]
            yield from (
                [*value[:index], changed, *value[index + 1 :]] for changed in _mutations(item)
            )


WRONG: list[Any] = [None, True, -1, 1.5, "(sensitive)", [], {}]


def _plan_documents() -> list[Any]:
    """The sample plans, each change alone in a plan (checks fast), and broken copies."""
    plans = [plan_to_json(every_action_plan()), plan_to_json(in_sync_plan())]
    singles = [
        {**plan, "scopes": [{**dataview, "changes": changes}]}
        for plan in plans
        for dataview in plan["scopes"]
        for changes in [[change] for change in dataview["changes"]] or [[]]
    ]
    return [*plans, *singles, *(changed for single in singles for changed in _mutations(single))]


def test_plan_fast_check_agrees_with_jsonschema_on_sample_plans_and_broken_copies() -> None:
    schema = load_schema("plan.schema.json")
    fast, full = compile_schema(schema), jsonschema.Draft202012Validator(schema)
    documents = _plan_documents()
    verdicts = [(fast(document), full.is_valid(document)) for document in documents]
    assert [v for v in verdicts if v[0] != v[1]] == []
    assert verdicts.count((True, True)) >= 2  # the samples themselves pass both
    assert verdicts.count((False, False)) > 100


def test_plan_file_fast_check_agrees_with_jsonschema_around_a_valid_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    secrets = {"mammoth:1/1/123/456/weekly/target_properties.password": "s3cret"}
    save_plan(path, every_action_plan(), secrets=secrets, sources=["exports.yaml"])
    saved = json.loads(path.read_text())
    plan = saved.pop("plan")
    envelopes = [saved, *_mutations(saved)]
    documents = [{**envelope, "plan": plan} for envelope in envelopes if isinstance(envelope, dict)]
    verdicts = [(_fast_envelope_check()(d), _validator().is_valid(d)) for d in documents]
    assert [v for v in verdicts if v[0] != v[1]] == []
    assert verdicts[0] == (True, True)
    assert verdicts.count((False, False)) > 20


def test_a_reference_to_another_document_makes_the_fast_check_answer_no() -> None:
    assert compile_schema({"$ref": "plan.schema.json"})({}) is False
