import json

import pytest

from reconciler.model import FrozenDict, Scope, common_noun, freeze, scope_titles, thaw


def test_freeze_makes_nested_json_immutable_and_thaw_restores_it() -> None:
    value = {"a": [1, {"b": 2}], "c": {"d": None}}
    frozen = freeze(value)
    with pytest.raises(TypeError):
        frozen["a"] = 1
    with pytest.raises(TypeError):
        frozen["c"].update(x=1)
    assert thaw(frozen) == value
    assert json.loads(json.dumps(frozen)) == value


def test_frozen_dicts_with_equal_content_hash_equal() -> None:
    assert hash(FrozenDict({"a": 1, "b": 2})) == hash(FrozenDict({"b": 2, "a": 1}))


def test_scopes_are_the_same_by_provider_kind_and_address_alone() -> None:
    first = Scope("acme", "widgets", "a/1", freeze({"id": 1}), noun="account")
    again = Scope("acme", "widgets", "a/1", freeze({"id": 2}), noun="other words")
    assert first == again and hash(first) == hash(again)
    assert first != Scope("acme", "reports", "a/1")
    assert (str(first), first.title) == ("a/1", "account a/1")


def test_messages_use_the_scopes_one_noun_or_a_general_word() -> None:
    exports = Scope("m", "exports", "1", noun="dataview", resource_noun="export")
    runs = Scope("g", "snapshots", "x", noun="account", resource_noun="export")
    widgets = Scope("a", "widgets", "y", noun="account", resource_noun="widget")
    assert common_noun([exports, runs]) == "export"
    assert common_noun([exports, widgets]) == "resource"
    assert common_noun([runs, widgets], of_resources=False) == "account"
    assert common_noun([exports, runs], of_resources=False) == "scope"


def test_scopes_of_one_title_are_told_apart_by_kind_and_counted_as_scopes() -> None:
    templates = Scope("d", "templates", "sandbox", noun="user", resource_noun="template")
    snapshots = Scope("d", "snapshots", "sandbox", noun="user", resource_noun="export job")
    other = Scope("d", "templates", "alice", noun="user", resource_noun="template")
    assert scope_titles([templates, snapshots, other]) == [
        "user sandbox (templates)",
        "user sandbox (snapshots)",
        "user alice",
    ]
    assert scope_titles([templates, other]) == ["user sandbox", "user alice"]
    assert common_noun([templates, snapshots], of_resources=False) == "scope"
    assert common_noun([templates, templates, other], of_resources=False) == "user"
