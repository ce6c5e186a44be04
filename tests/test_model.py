import json

import pytest

from reconciler.model import FrozenDict, Scope, common_noun, freeze, thaw


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
