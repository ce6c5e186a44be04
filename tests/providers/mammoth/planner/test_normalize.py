"""Each normalization rule: equal exports must plan to a no-op, and why."""

import pytest

from reconciler.model import freeze
from reconciler.normalize import CompareOptions
from reconciler.plan import SENSITIVE, Action, FieldChange
from reconciler.providers.mammoth.handlers import MASK
from reconciler.providers.mammoth.kind import EXPORTS
from tests.providers.mammoth.planner.builders import live, only, plan, spec, state

S3_DEFAULTS = {
    "file_type": "csv",
    "include_hidden": False,
    "is_format_set": True,
    "use_format": True,
}


def test_server_filled_target_defaults_cause_no_diff() -> None:
    desired = spec(target_properties={"file": "sales.csv"})
    filled = live(10, desired, target_properties={"file": "sales.csv", **S3_DEFAULTS})
    assert only(plan(state(desired), filled)).action is Action.NOOP


def test_defaults_are_filled_on_the_desired_side_too() -> None:
    form = EXPORTS.normalize_desired(spec()).form
    assert form["target_properties"] == {"file": "sales.csv", **S3_DEFAULTS}


def test_a_handler_without_schema_gets_no_defaults() -> None:
    form = EXPORTS.normalize_desired(spec(handler_type="future_handler")).form
    assert form["target_properties"] == {"file": "sales.csv"}


def test_null_equals_missing_at_any_depth() -> None:
    desired = spec(condition={"a": {"b": 1}})
    nulls = live(10, desired, condition={"a": {"b": 1, "c": None}, "d": None}, sequence=None)
    assert only(plan(state(desired), nulls)).action is Action.NOOP


def test_key_order_does_not_matter() -> None:
    desired = spec(condition={"a": 1, "b": 2})
    reordered = live(10, desired, condition={"b": 2, "a": 1})
    assert only(plan(state(desired), reordered)).action is Action.NOOP


@pytest.mark.parametrize("empty", [None, {}])
def test_an_empty_condition_equals_a_missing_one(empty: object) -> None:
    assert only(plan(state(spec()), live(10, spec(), condition=empty))).action is Action.NOOP


def test_a_masked_secret_produces_no_diff_by_itself() -> None:
    desired = spec(target_properties={"file": "sales.csv", "password": "pw"})
    masked = live(10, desired, target_properties={"file": "sales.csv", "password": MASK})
    assert only(plan(state(desired), masked)).action is Action.NOOP


def test_a_secret_added_to_the_manifest_shows_redacted() -> None:
    desired = spec(target_properties={"file": "sales.csv", "token": "t0k3n"})
    change = only(plan(state(desired), live(10, spec())))
    assert change.fields == (
        FieldChange("target_properties.token", None, SENSITIVE, sensitive=True),
    )


def test_a_sensitive_path_of_the_manifest_is_redacted_like_a_secret() -> None:
    written = spec(
        target_properties={"file": "sales.csv", "dsn": "pg://a"},
        sensitive=("target_properties.dsn",),
    )
    desired = spec(
        target_properties={"file": "sales.csv", "dsn": "pg://b"},
        sensitive=("target_properties.dsn",),
    )
    change = only(plan(state(desired), live(10, written)))
    assert change.fields == (FieldChange("target_properties.dsn", SENSITIVE, SENSITIVE, True),)


def test_secret_named_fields_inside_lists_are_taken_out_too() -> None:
    normalized = EXPORTS.normalize_desired(spec(condition={"rules": [{"token": "t"}]}))
    assert normalized.form["condition"] == {"rules": [{"token": SENSITIVE}]}
    assert normalized.secrets == (("condition.rules.0.token", "t"),)


def test_ignore_changes_paths_are_not_compared() -> None:
    desired = spec(ignore_changes=("target_properties.use_format",))
    hand_edited = live(10, desired, target_properties={"file": "sales.csv", "use_format": False})
    assert only(plan(state(desired), hand_edited)).action is Action.NOOP


def test_sequence_is_compared_only_when_the_manifest_sets_it() -> None:
    assert only(plan(state(spec()), live(10, spec(), sequence=7))).action is Action.NOOP
    change = only(plan(state(spec(sequence=3)), live(10, spec(sequence=3), sequence=7)))
    assert change.fields == (FieldChange("sequence", 7, 3),)


def test_run_immediately_is_never_compared() -> None:
    written = spec(run_immediately=False)
    assert only(plan(state(spec(run_immediately=True)), live(10, written))).action is Action.NOOP


def test_server_computed_fields_are_never_compared() -> None:
    busy = live(10, spec(), status="executing", runnable=False, reordered=True, sub_sequence=4)
    assert only(plan(state(spec()), busy)).action is Action.NOOP


def test_the_marker_is_left_out_of_the_form() -> None:
    record = live(10, spec(), additional_properties={"exportctl": {"key": "k"}, "x": 1})
    assert EXPORTS.normalize_live(record, CompareOptions()).form["additional_properties"] == {
        "x": 1
    }


def test_frozen_values_come_out_as_plain_json() -> None:
    form = EXPORTS.normalize_desired(spec(condition=freeze({"ids": [1, 2]}))).form
    assert type(form["condition"]) is dict
    assert type(form["condition"]["ids"]) is list
