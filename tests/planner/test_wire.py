"""The AddExportSpec bodies apply sends."""

from reconciler.model import freeze
from reconciler.providers.mammoth.wire import add_body, edit_body
from tests.planner.builders import REF, SALT, live, marker, spec


def test_an_add_body_is_the_complete_add_export_spec() -> None:
    desired = spec(condition={"status": "active"}, additional_properties={"note": "x"})
    assert add_body(desired, REF, salt=SALT) == {
        "DATAVIEW_ID": 456,
        "handler_type": "s3",
        "trigger_type": "pipeline",
        "target_properties": {
            "file": "sales.csv",
            "file_type": "csv",
            "include_hidden": False,
            "is_format_set": True,
            "use_format": True,
        },
        "additional_properties": {"note": "x", **marker(desired)},
        "condition": {"status": "active"},
        "end_of_pipeline": True,
        "run_immediately": True,
        "validate_only": False,
    }


def test_sequence_is_sent_only_when_set() -> None:
    assert add_body(spec(sequence=4), REF, salt=SALT, validate_only=True)["sequence"] == 4
    assert "sequence" not in add_body(spec(), REF, salt=SALT)


def test_an_edit_body_names_the_export_it_rewrites() -> None:
    body = edit_body(spec(), REF, 77, salt=SALT, validate_only=True)
    assert (body["TRIGGER_ID"], body["validate_only"]) == (77, True)


def test_an_edit_keeps_live_values_at_ignored_paths_but_not_masks() -> None:
    desired = spec(
        target_properties={"file": "f.csv", "use_format": True, "password": "pw"},
        ignore_changes=("target_properties.use_format", "target_properties.password"),
    )
    hand_edited = live(
        10,
        desired,
        target_properties={"file": "f.csv", "use_format": False, "password": "********"},
    )
    body = edit_body(desired, REF, 10, salt=SALT, live=hand_edited)
    assert body["target_properties"]["use_format"] is False
    assert body["target_properties"]["password"] == "pw"


def test_bodies_are_plain_json_not_frozen() -> None:
    body = add_body(spec(condition=freeze({"ids": [1]})), REF, salt=SALT)
    assert type(body["condition"]["ids"]) is list
