"""The marker: its format, reading it back, and what its hash covers (any provider)."""

import pytest

from reconciler.identity import (
    Marker,
    applied_digest,
    marker_for,
    new_salt,
    parse_marker,
)
from reconciler.normalize import Normalized

SALT = "00ff00ff00ff00ff"


def normalized(password: str = "1", file: str = "f") -> Normalized:
    """A resource's form with one secret taken out, as a kind would produce it."""
    return Normalized({"file": file, "password": "(sensitive)"}, (("password", password),))


def test_applied_has_version_salt_and_two_digests() -> None:
    version, salt, spec_part, secret_part = applied_digest(normalized(), SALT).split(":")
    assert (version, salt, len(spec_part), len(secret_part)) == ("v1", SALT, 16, 16)


def test_a_written_marker_reads_back() -> None:
    written = marker_for("sales", False, normalized(), SALT)
    applied = written["applied"]
    assert parse_marker(written) == Marker("sales", applied, SALT, *applied.split(":")[2:])


def test_protect_is_recorded_only_when_set() -> None:
    assert "protect" not in marker_for("k", False, normalized(), SALT)
    marker = parse_marker(marker_for("k", True, normalized(), SALT))
    assert marker is not None and marker.protect


@pytest.mark.parametrize("raw", [None, "x", {"applied": "v1:a:b:c"}, {"key": ""}, {"key": 3}])
def test_markers_without_a_usable_key_count_as_absent(raw: object) -> None:
    assert parse_marker(raw) is None


def test_a_marker_with_an_unreadable_applied_keeps_its_key() -> None:
    marker = parse_marker({"key": "k", "applied": "v9"})
    assert marker == Marker("k", "v9")
    assert marker is not None and not marker.readable


def test_only_secret_values_move_the_secret_digest() -> None:
    a = applied_digest(normalized("1"), SALT).split(":")
    b = applied_digest(normalized("2"), SALT).split(":")
    assert (a[2] == b[2], a[3] == b[3]) == (True, False)


def test_visible_values_move_the_spec_digest() -> None:
    a = applied_digest(normalized(file="a"), SALT).split(":")
    b = applied_digest(normalized(file="b"), SALT).split(":")
    assert (a[2] == b[2], a[3] == b[3]) == (False, True)


def test_the_salt_changes_the_secret_digest() -> None:
    assert (
        applied_digest(normalized(), "aa").split(":")[3]
        != applied_digest(normalized(), "bb").split(":")[3]
    )


def test_salts_are_fresh_hex() -> None:
    first, second = new_salt(), new_salt()
    assert first != second
    assert int(first, 16) >= 0


@pytest.mark.parametrize("salt", ["", "a:b"])
def test_a_salt_that_would_break_the_format_is_refused(salt: str) -> None:
    with pytest.raises(ValueError, match="salt"):
        marker_for("k", False, normalized(), salt)
