import json

import pytest

from reconciler.model import FrozenDict, freeze, thaw
from reconciler.providers.mammoth.model import DataviewRef, LiveExport


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1/2/3/4", DataviewRef(1, 2, 3, 4)), (" 10/20/30/40 ", DataviewRef(10, 20, 30, 40))],
)
def test_dataview_ref_parses_its_own_string_form(text: str, expected: DataviewRef) -> None:
    assert DataviewRef.parse(text) == expected
    assert DataviewRef.parse(str(expected)) == expected


@pytest.mark.parametrize("text", ["1/2/3", "a/b/c/d", "1/2/3/4/5", ""])
def test_dataview_ref_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match="WORKSPACE/PROJECT/DATASET/DATAVIEW"):
        DataviewRef.parse(text)


def test_live_export_treats_null_objects_as_empty_and_reads_suspension() -> None:
    live = LiveExport.from_api(
        {"id": 7, "handler_type": "s3", "status": "suspended", "target_properties": None}
    )
    assert live.target_properties == {}
    assert live.condition == {}
    assert live.suspended
    assert not live.deleted
