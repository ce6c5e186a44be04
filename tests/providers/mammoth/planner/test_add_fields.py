"""An add lists what it will write, as Terraform lists a resource to be created."""

from reconciler.plan import SENSITIVE, Action, FieldChange
from tests.providers.mammoth.planner.builders import live, only, plan, spec, state

S3_DEFAULTS = (
    FieldChange("target_properties.file_type", None, "csv"),
    FieldChange("target_properties.include_hidden", None, False),
    FieldChange("target_properties.is_format_set", None, True),
    FieldChange("target_properties.use_format", None, True),
)


def test_an_add_lists_every_field_it_writes_defaults_included() -> None:
    change = only(plan(state(spec("sales", condition={"status": "active"}))))
    assert (change.action, change.reason) == (
        Action.ADD,
        "no live export has this key or destination",
    )
    assert change.fields == (
        FieldChange("condition.status", None, "active"),
        FieldChange("end_of_pipeline", None, True),
        FieldChange("target_properties.file", None, "sales.csv"),
        *S3_DEFAULTS,
        FieldChange("trigger_type", None, "pipeline"),
    )


def test_sequence_and_suspended_are_listed_only_when_set() -> None:
    paths = [f.path for f in only(plan(state(spec(sequence=2, suspended=True)))).fields]
    assert ("sequence" in paths, "suspended" in paths) == (True, True)
    paths = [f.path for f in only(plan(state(spec()))).fields]
    assert ("sequence" in paths, "suspended" in paths) == (False, False)


def test_nested_objects_are_listed_leaf_by_leaf_and_lists_whole() -> None:
    desired = spec(additional_properties={"labels": {"team": "ops"}, "ids": [1, 2]})
    fields = only(plan(state(desired))).fields
    assert FieldChange("additional_properties.labels.team", None, "ops") in fields
    assert FieldChange("additional_properties.ids", None, [1, 2]) in fields


def test_secrets_of_an_add_are_redacted_like_an_edits() -> None:
    desired = spec(
        target_properties={"file": "sales.csv", "password": "hunter2", "dsn": "pg://x"},
        sensitive=("target_properties.dsn",),
    )
    fields = only(plan(state(desired))).fields
    assert FieldChange("target_properties.password", None, SENSITIVE, sensitive=True) in fields
    assert FieldChange("target_properties.dsn", None, SENSITIVE, sensitive=True) in fields
    assert "hunter2" not in repr(fields) and "pg://x" not in repr(fields)


def test_ignore_changes_fields_are_listed_because_an_add_writes_them() -> None:
    desired = spec(ignore_changes=("target_properties.use_format",))
    fields = only(plan(state(desired))).fields
    assert FieldChange("target_properties.use_format", None, True) in fields


def test_a_replace_shows_old_and_new_values_not_an_add_listing() -> None:
    written = spec("sales", handler_type="internal_dataset", target_properties={"x": 1})
    change = only(plan(state(spec("sales")), live(10, written)))
    target = {"file": "sales.csv", **{f.path.split(".")[1]: f.new for f in S3_DEFAULTS}}
    assert (change.action, change.fields) == (
        Action.REPLACE,
        (
            FieldChange("handler_type", "internal_dataset", "s3"),
            FieldChange("target_properties", {"x": 1}, target),
        ),
    )
