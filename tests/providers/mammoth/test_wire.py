"""The AddExportSpec bodies apply sends."""

from reconciler.model import freeze
from reconciler.providers.mammoth.wire import add_body, edit_body
from tests.providers.mammoth.planner.builders import SALT, live, marker, spec


def test_an_add_body_is_the_complete_add_export_spec() -> None:
    desired = spec(condition={"status": "active"}, additional_properties={"note": "x"})
    assert add_body(desired, salt=SALT) == {
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
    assert add_body(spec(sequence=4), salt=SALT, validate_only=True)["sequence"] == 4
    assert "sequence" not in add_body(spec(), salt=SALT)


def test_bodies_leave_the_ids_to_the_client() -> None:
    """DATAVIEW_ID and TRIGGER_ID are set by the client's calls, in one place."""
    body = edit_body(spec(), salt=SALT, validate_only=True)
    assert body["validate_only"] is True
    assert not {"DATAVIEW_ID", "TRIGGER_ID"} & body.keys()


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
    body = edit_body(desired, salt=SALT, live=hand_edited)
    assert body["target_properties"]["use_format"] is False
    assert body["target_properties"]["password"] == "pw"


def test_bodies_are_plain_json_not_frozen() -> None:
    body = add_body(spec(condition=freeze({"ids": [1]})), salt=SALT)
    assert type(body["condition"]["ids"]) is list
