"""One test per kind of plan entry: build inputs, plan, compare."""

from reconciler.model import Prune
from reconciler.plan import SENSITIVE, Action, DriftKind, FieldChange
from tests.providers.mammoth.planner.builders import live, marker, only, plan, spec, state


def test_a_desired_export_absent_live_is_added_as_missing() -> None:
    change = only(plan(state(spec("sales"))))
    assert (change.action, change.key, change.resource_id) == (Action.ADD, "sales", None)
    assert change.drift is DriftKind.MISSING


def test_an_export_as_written_is_a_noop() -> None:
    desired = spec("sales")
    change = only(plan(state(desired), live(10, desired)))
    assert (change.action, change.fields, change.drift) == (Action.NOOP, (), None)


def test_a_changed_field_is_an_edit_not_yet_applied() -> None:
    written = spec("sales", trigger_type="none")
    change = only(plan(state(spec("sales")), live(10, written)))
    assert change.action is Action.EDIT
    assert change.fields == (FieldChange("trigger_type", "none", "pipeline"),)
    assert change.drift is DriftKind.NOT_YET_APPLIED


def test_a_field_changed_by_hand_is_an_edit_changed_by_hand() -> None:
    desired = spec("sales")
    hand_edited = live(10, desired, trigger_type="schedule")
    change = only(plan(state(desired), hand_edited))
    assert change.fields == (FieldChange("trigger_type", "schedule", "pipeline"),)
    assert change.drift is DriftKind.CHANGED_BY_HAND


def test_a_nested_field_change_has_a_dotted_path() -> None:
    written = spec(target_properties={"file": "sales.csv", "file_type": "json"})
    change = only(plan(state(spec()), live(10, written)))
    assert change.fields == (FieldChange("target_properties.file_type", "json", "csv"),)


def test_a_list_change_is_reported_whole_at_the_list_path() -> None:
    written = spec(condition={"ids": [1, 2, 3]})
    change = only(plan(state(spec(condition={"ids": [1, 3]})), live(10, written)))
    assert change.fields == (FieldChange("condition.ids", [1, 2, 3], [1, 3]),)


def test_suspension_differences_are_edits() -> None:
    change = only(plan(state(spec(suspended=True)), live(10, spec())))
    assert (change.action, change.fields) == (Action.EDIT, (FieldChange("suspended", False, True),))


def test_another_handler_type_is_a_replace() -> None:
    written = spec(handler_type="internal_dataset", target_properties={"dataset_name": "x"})
    change = only(plan(state(spec()), live(10, written)))
    assert (change.action, change.resource_id, change.refused) == (Action.REPLACE, "10", None)
    assert FieldChange("handler_type", "internal_dataset", "s3") in change.fields


def test_protect_refuses_a_replace_and_says_how_to_proceed() -> None:
    written = spec(handler_type="internal_dataset", target_properties={"dataset_name": "x"})
    change = only(plan(state(spec(protect=True)), live(10, written)))
    assert change.action is Action.REPLACE
    assert change.refused == (
        "export 'sales' is protected: to allow this replace, remove 'protect: true' "
        "from it in the manifest, then plan and apply again"
    )


def test_an_export_applied_with_protect_is_not_deleted_when_its_entry_leaves() -> None:
    change = only(plan(state(), live(10, spec(protect=True))))
    assert (change.action, change.resource_id) == (Action.DELETE, "10")
    assert change.refused == (
        "export 'sales' was applied with 'protect: true': to delete it, put it back in "
        "the manifest with 'protect: false', apply, then remove it"
    )


def test_an_unprotected_export_leaving_the_manifest_is_deleted() -> None:
    change = only(plan(state(), live(10, spec())))
    assert (change.action, change.refused) == (Action.DELETE, None)


def test_the_marker_records_protect_only_when_set() -> None:
    assert marker(spec(protect=True))["exportctl"]["protect"] is True
    assert "protect" not in marker(spec())["exportctl"]


def test_lifting_protect_is_an_edit_of_the_marker_alone() -> None:
    change = only(plan(state(spec(protect=False)), live(10, spec(protect=True))))
    assert (change.action, change.fields, change.refused) == (
        Action.EDIT,
        (),
        None,
    )
    assert change.reason == "protect is lifted; apply records it in the exportctl marker"


def test_setting_protect_is_an_edit_and_then_nothing() -> None:
    change = only(plan(state(spec(protect=True)), live(10, spec())))
    assert change.reason == "protect is set; apply records it in the exportctl marker"
    assert only(plan(state(spec(protect=True)), live(10, spec(protect=True)))).action is (
        Action.NOOP
    )


def test_a_replace_of_an_export_applied_with_protect_is_refused_even_if_lifted_now() -> None:
    written = spec(
        handler_type="internal_dataset", target_properties={"dataset_name": "x"}, protect=True
    )
    change = only(plan(state(spec(protect=False)), live(10, written)))
    assert change.action is Action.REPLACE
    assert change.refused == (
        "export 'sales' was applied with 'protect: true': to allow this replace, first "
        "apply it with 'protect: false' and its old handler_type, then change the handler_type"
    )


def test_protect_does_not_refuse_an_edit() -> None:
    change = only(plan(state(spec(protect=True)), live(10, spec(trigger_type="none"))))
    assert (change.action, change.refused) == (Action.EDIT, None)


def test_an_unmarked_export_at_the_same_destination_is_adopted() -> None:
    change = only(plan(state(spec("sales")), live(10, spec("x"), marked=False)))
    assert (change.action, change.key, change.resource_id) == (Action.ADOPT, "sales", "10")
    assert (change.fields, change.drift) == ((), DriftKind.UNMANAGED)


def test_adoption_shows_field_differences() -> None:
    by_hand = live(10, spec(trigger_type="none"), marked=False)
    change = only(plan(state(spec()), by_hand))
    assert change.fields == (FieldChange("trigger_type", "none", "pipeline"),)


def test_a_renamed_key_at_the_same_destination_is_re_keyed_not_replaced() -> None:
    change = only(plan(state(spec("new-name")), live(10, spec("old-name"))))
    assert (change.action, change.key, change.resource_id) == (Action.ADOPT, "new-name", "10")
    assert change.reason == "key renamed from 'old-name'"


def test_an_address_taken_by_a_marked_export_is_not_adopted_twice() -> None:
    result = plan(state(spec("a"), spec("b")), live(10, spec("a")))
    assert [(c.action, c.key) for c in result.scopes[0].changes] == [
        (Action.NOOP, "a"),
        (Action.ADD, "b"),
    ]


def test_a_key_that_left_the_manifest_is_deleted_under_prune_managed() -> None:
    change = only(plan(state(), live(10, spec("gone", file="gone.csv"))))
    assert (change.action, change.key, change.resource_id) == (Action.DELETE, "gone", "10")
    assert change.reason == "key 'gone' left the manifest (prune: managed)"


def test_prune_none_keeps_a_key_that_left_as_unmanaged() -> None:
    change = only(plan(state(prune=Prune.NONE), live(10, spec("gone"))))
    assert (change.action, change.drift) == (Action.UNMANAGED, DriftKind.UNMANAGED)


def test_an_unmarked_export_matching_nothing_is_unmanaged() -> None:
    change = only(plan(state(), live(10, spec(file="legacy.csv"), marked=False)))
    assert (change.action, change.key, change.drift) == (
        Action.UNMANAGED,
        "s3:legacy.csv",
        DriftKind.UNMANAGED,
    )


def test_prune_all_deletes_unmarked_exports() -> None:
    change = only(plan(state(prune=Prune.ALL), live(10, spec(), marked=False)))
    assert (change.action, change.drift) == (Action.DELETE, DriftKind.UNMANAGED)


def test_an_unmarked_export_without_address_is_labelled_by_id() -> None:
    no_schema = spec(handler_type="future_handler", target_properties={"path": "/x"})
    change = only(plan(state(), live(10, no_schema, marked=False)))
    assert change.key == "future_handler#10"


def test_duplicates_of_one_key_keep_the_lowest_id_whatever_prune_says() -> None:
    desired = spec("sales")
    result = plan(state(desired, prune=Prune.NONE), live(12, desired), live(11, desired))
    assert [(c.action, c.resource_id) for c in result.scopes[0].changes] == [
        (Action.NOOP, "11"),
        (Action.DELETE, "12"),
    ]
    assert result.scopes[0].changes[1].reason == "duplicate of key 'sales' (export #11 is kept)"


def test_a_hand_made_copy_writing_elsewhere_with_a_pasted_marker_is_a_conflict_not_a_delete() -> (
    None
):
    desired = spec("sales")
    elsewhere = spec("sales", file="copy.csv", protect=True)
    pasted = live(12, elsewhere, additional_properties=marker(desired))
    result = plan(state(desired, prune=Prune.NONE), live(11, desired), pasted)
    assert [(c.action, c.resource_id) for c in result.scopes[0].changes] == [
        (Action.NOOP, "11"),
        (Action.UNMANAGED, "12"),
    ]
    assert (
        result.scopes[0]
        .changes[1]
        .reason.startswith("conflict: carries the marker of key 'sales', which export #11 has")
    )


def test_a_protected_copy_is_never_deleted_as_a_duplicate() -> None:
    desired = spec("sales", protect=True)
    result = plan(state(desired), live(11, desired), live(12, desired))
    assert [c.action for c in result.scopes[0].changes] == [Action.NOOP, Action.UNMANAGED]


def test_a_copy_changed_by_hand_since_it_was_written_is_not_deleted() -> None:
    desired = spec("sales")
    edited = live(12, desired, trigger_type="none")
    result = plan(state(desired), live(11, desired), edited)
    assert [c.action for c in result.scopes[0].changes] == [Action.NOOP, Action.UNMANAGED]


def test_a_value_marked_sensitive_when_written_stays_redacted_once_unmarked() -> None:
    target = {"host": "files.example.com", "username": "alice-login", "path": "/out"}
    written = spec(
        handler_type="sftp", target_properties=target, sensitive=("target_properties.username",)
    )
    desired = spec(handler_type="sftp", target_properties={**target, "username": "bob-login"})
    change = only(plan(state(desired), live(10, written)))
    assert change.action is Action.EDIT
    assert change.fields == (
        FieldChange("target_properties.username", SENSITIVE, SENSITIVE, sensitive=True),
    )


def test_a_value_marked_sensitive_when_written_stays_redacted_across_a_replace() -> None:
    target = {"host": "files.example.com", "username": "alice-login", "path": "/out"}
    written = spec(
        handler_type="sftp", target_properties=target, sensitive=("target_properties.username",)
    )
    change = only(plan(state(spec()), live(10, written)))
    assert change.action is Action.REPLACE
    assert "alice-login" not in repr(change.fields)


def test_a_field_the_server_masks_is_redacted_on_both_sides_whatever_its_name() -> None:
    desired = spec(target_properties={"file": "sales.csv", "hmac_value": "sig-Value-7"})
    masked = live(10, desired, target_properties={"file": "sales.csv", "hmac_value": "********"})
    change = only(plan(state(desired), masked))
    assert "sig-Value-7" not in repr(change)
    assert change.fields == (
        FieldChange("target_properties.hmac_value", SENSITIVE, SENSITIVE, sensitive=True),
    )


def test_deleted_live_exports_count_as_absent() -> None:
    change = only(plan(state(spec()), live(10, spec(), status="deleted")))
    assert change.action is Action.ADD


def test_an_unreadable_marker_is_rewritten_by_an_edit() -> None:
    broken = live(10, spec(), additional_properties={"exportctl": {"key": "sales"}})
    change = only(plan(state(spec()), broken))
    assert (change.action, change.reason) == (
        Action.EDIT,
        "the exportctl marker is unreadable; apply rewrites it",
    )


def test_a_rotated_secret_is_an_edit_although_the_api_masks_it() -> None:
    written = spec(target_properties={"file": "sales.csv", "password": "old-pw"})
    desired = spec(target_properties={"file": "sales.csv", "password": "new-pw"})
    change = only(plan(state(desired), live(10, written)))
    assert change.fields == (
        FieldChange("target_properties.password", SENSITIVE, SENSITIVE, sensitive=True),
    )
    assert (change.action, change.drift) == (Action.EDIT, DriftKind.NOT_YET_APPLIED)


def test_an_unchanged_secret_is_a_noop() -> None:
    desired = spec(target_properties={"file": "sales.csv", "password": "pw"})
    assert only(plan(state(desired), live(10, desired))).action is Action.NOOP


def test_a_marker_written_by_the_manifest_itself_is_not_compared() -> None:
    desired = spec(additional_properties={"note": "x"})
    by_marker = live(10, desired, additional_properties={"note": "x", **marker(desired)})
    assert only(plan(state(desired), by_marker)).action is Action.NOOP


def test_plan_carries_the_manifest_digest_and_a_live_fingerprint() -> None:
    result = plan(state(spec()), live(10, spec()))
    assert result.manifest_digest == "d1"
    assert len(result.scopes[0].live_fingerprint) == 16


def test_no_secret_value_appears_anywhere_in_the_plan() -> None:
    secret = {"file": "sales.csv", "password": "hunter2-new", "nested": {"api_key": "k-new"}}
    old = {"file": "sales.csv", "password": "hunter2-old", "nested": {"api_key": "k-old"}}
    desired = (
        spec("a", target_properties=secret),
        spec("b", file="b.csv", target_properties={**secret, "file": "b.csv"}),
    )
    result = plan(state(*desired), live(10, spec("a", target_properties=old)))
    values = [(f.path, f.old, f.new) for _, c in result.changes() for f in c.fields]
    assert not any(word in repr(result) + repr(values) for word in ("hunter2", "k-new", "k-old"))
    assert ("target_properties.nested.api_key", SENSITIVE, SENSITIVE) in values
