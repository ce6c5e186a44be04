"""Mammoth's export kind: where its marker lives, where an export writes."""

import pytest

from reconciler.identity import marker_for
from reconciler.providers.mammoth.kind import EXPORTS
from tests.providers.mammoth.planner.builders import SALT, live, spec


def test_the_marker_is_read_from_additional_properties() -> None:
    desired = spec("sales")
    written = marker_for("sales", False, EXPORTS.normalize_desired(desired), SALT)
    marker = EXPORTS.marker(live(10, desired))
    assert marker is not None
    assert (marker.key, marker.applied) == ("sales", written["applied"])


def test_an_unmarked_export_has_no_marker() -> None:
    assert EXPORTS.marker(live(10, spec(), marked=False)) is None


@pytest.mark.parametrize(
    ("handler", "target", "expected"),
    [
        ("s3", {"file": "a.csv", "file_type": "csv"}, ("s3", "a.csv")),
        ("internal_dataset", {"dataset_name": "x"}, ("internal_dataset", "x")),
        ("s3", {"file_type": "csv"}, None),
        ("future_handler", {"file": "a.csv"}, None),
    ],
)
def test_natural_address(handler: str, target: dict[str, object], expected: object) -> None:
    assert EXPORTS.address(spec(handler_type=handler, target_properties=target)) == expected


def test_another_handler_type_is_a_replace() -> None:
    reason = EXPORTS.replace_reason(spec(handler_type="postgres"), live(10, spec()))
    assert reason is not None and "handler_type changes from 's3' to 'postgres'" in reason
    assert EXPORTS.replace_reason(spec(), live(10, spec())) is None
