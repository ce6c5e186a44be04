"""Mammoth's model: dataview addresses and listed exports, and the scope they map to."""

import pytest

from reconciler.providers.mammoth.model import DataviewRef, LiveExport


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


def test_a_dataview_is_a_scope_whose_fields_give_it_back() -> None:
    ref = DataviewRef(1, 2, 3, 4)
    scope = ref.scope
    assert (scope.provider, scope.kind, scope.address, scope.title) == (
        "mammoth",
        "exports",
        "1/2/3/4",
        "dataview 1/2/3/4",
    )
    assert DataviewRef.of(scope) == ref
