"""The marker: its format, reading it back, and what its hash covers."""

import pytest

from reconciler.identity import (
    Marker,
    applied_digest,
    marker_for,
    natural_address,
    new_salt,
    read_marker,
)
from tests.planner.builders import SALT, live, spec


def test_applied_has_version_salt_and_two_digests() -> None:
    version, salt, spec_part, secret_part = applied_digest(spec(), SALT).split(":")
    assert (version, salt, len(spec_part), len(secret_part)) == ("v1", SALT, 16, 16)


def test_a_written_marker_reads_back() -> None:
    desired = spec("sales")
    applied = marker_for(desired, SALT)["applied"]
    assert read_marker(live(10, desired)) == Marker("sales", applied, SALT, *applied.split(":")[2:])


@pytest.mark.parametrize(
    "raw",
    [None, "x", {"applied": "v1:a:b:c"}, {"key": ""}, {"key": 3}],
)
def test_markers_without_a_usable_key_count_as_absent(raw: object) -> None:
    assert read_marker(live(10, spec(), additional_properties={"exportctl": raw})) is None


def test_a_marker_with_an_unreadable_applied_keeps_its_key() -> None:
    marker = read_marker(
        live(10, spec(), additional_properties={"exportctl": {"key": "k", "applied": "v9"}})
    )
    assert marker == Marker("k", "v9")
    assert not marker.readable


def test_only_secret_values_move_the_secret_digest() -> None:
    a = applied_digest(spec(target_properties={"file": "f", "password": "1"}), SALT).split(":")
    b = applied_digest(spec(target_properties={"file": "f", "password": "2"}), SALT).split(":")
    assert (a[2] == b[2], a[3] == b[3]) == (True, False)


def test_the_salt_changes_the_secret_digest() -> None:
    desired = spec(target_properties={"file": "f", "password": "1"})
    assert (
        applied_digest(desired, "aa").split(":")[3] != applied_digest(desired, "bb").split(":")[3]
    )


def test_salts_are_fresh_hex() -> None:
    first, second = new_salt(), new_salt()
    assert first != second
    assert int(first, 16) >= 0


@pytest.mark.parametrize("salt", ["", "a:b"])
def test_a_salt_that_would_break_the_format_is_refused(salt: str) -> None:
    with pytest.raises(ValueError, match="salt"):
        marker_for(spec(), salt)


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
    assert natural_address(handler, target) == expected
