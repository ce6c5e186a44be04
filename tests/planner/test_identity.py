"""The marker: its format, reading it back, and what its hash covers (any provider)."""

import hashlib
import hmac

import pytest

from reconciler.identity import (
    MARKER_KEY_ENV,
    STRETCH_ITERATIONS,
    Marker,
    applied_digest,
    marker_for,
    new_salt,
    parse_marker,
    secrets_stand_in,
    secrets_unchanged,
)
from reconciler.normalize import Normalized, canonical_json, digest

SALT = "00ff00ff00ff00ff"


def normalized(password: str = "1", file: str = "f") -> Normalized:
    """A resource's form with one secret taken out, as a kind would produce it."""
    return Normalized({"file": file, "password": "(sensitive)"}, (("password", password),))


def test_applied_has_version_salt_and_two_digests() -> None:
    version, salt, spec_part, secret_part = applied_digest(normalized(), SALT).split(":")
    scheme, stretch_salt, shown = secret_part[0], *secret_part[1:].split(".")
    assert (version, salt, len(spec_part), scheme, len(stretch_salt), len(shown)) == (
        "v2",
        SALT,
        16,
        "s",
        16,
        16,
    )


def test_without_secrets_the_secret_part_says_so() -> None:
    plain = Normalized({"file": "f"}, ())
    assert applied_digest(plain, SALT).split(":")[3] == "n"


def test_a_keyed_marker_gives_no_way_to_check_a_guess_without_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MARKER_KEY_ENV, "k3y-kept-with-the-ci-secrets")
    written = parse_marker(marker_for("k", False, normalized("abcd"), SALT))
    assert written is not None and (written.secret_digest or "").startswith("k")
    assert secrets_unchanged(normalized("abcd"), written) is True
    assert secrets_unchanged(normalized("abce"), written) is False
    monkeypatch.delenv(MARKER_KEY_ENV)
    # What an attacker with only the API's view has: no key, nothing to compare.
    assert secrets_unchanged(normalized("abcd"), written) is None
    monkeypatch.setenv(MARKER_KEY_ENV, "another-key")
    assert secrets_unchanged(normalized("abcd"), written) is False


def test_without_a_key_each_guess_costs_a_stretched_derivation() -> None:
    written = parse_marker(marker_for("k", False, normalized("abcd"), SALT))
    assert written is not None
    stretch_salt, shown = (written.secret_digest or "").removeprefix("s").split(".")
    secrets = canonical_json((("password", "abcd"),)).encode()
    stretched = hashlib.pbkdf2_hmac("sha256", secrets, stretch_salt.encode(), STRETCH_ITERATIONS)
    assert shown == hmac.new(stretched, SALT.encode(), hashlib.sha256).hexdigest()[:16]
    assert STRETCH_ITERATIONS >= 1000  # bench/bench_marker_guess.py: what a guess costs
    assert secrets_unchanged(normalized("abcd"), written) is True
    assert secrets_unchanged(normalized("abce"), written) is False


def test_a_stand_in_for_secrets_is_stretched_under_its_context_or_keyed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MARKER_KEY_ENV, raising=False)
    secrets = canonical_json((("password", "abcd"),)).encode()
    stretched = hashlib.pbkdf2_hmac("sha256", secrets, b"here", STRETCH_ITERATIONS)
    assert secrets_stand_in(normalized("abcd"), "here") == "s" + stretched.hex()[:16]
    assert secrets_stand_in(normalized("abcd"), "there") != secrets_stand_in(
        normalized("abcd"), "here"
    )
    assert secrets_stand_in(Normalized({"file": "f"}, ()), "here") == "n"
    monkeypatch.setenv(MARKER_KEY_ENV, "k3y-kept-with-the-ci-secrets")
    keyed = secrets_stand_in(normalized("abcd"), "here")
    assert keyed.startswith("k") and keyed == secrets_stand_in(normalized("abcd"), "here")
    assert keyed != secrets_stand_in(normalized("abce"), "here")


def test_one_apply_stretches_under_one_salt_yet_shows_each_resource_its_own_digest() -> None:
    first = parse_marker(marker_for("a", False, normalized("same"), SALT))
    second = parse_marker(marker_for("b", False, normalized("same"), new_salt()))
    assert first is not None and second is not None
    first_stretch, first_shown = (first.secret_digest or "").split(".")
    second_stretch, second_shown = (second.secret_digest or "").split(".")
    assert first_stretch == second_stretch  # one stretch serves both when planned
    assert first_shown != second_shown  # nobody reading them learns the secret is shared


def test_a_marker_stretched_under_its_own_salt_is_still_compared() -> None:
    """``p`` digests, as written before ``s``: PBKDF2 under the marker's salt."""

    def p_digest(password: str) -> str:
        secrets = canonical_json((("password", password),)).encode()
        stretched = hashlib.pbkdf2_hmac("sha256", secrets, SALT.encode(), STRETCH_ITERATIONS)
        return "p" + stretched.hex()[:16]

    older = Marker("k", f"v2:{SALT}:spec:{p_digest('abcd')}", SALT, "spec", p_digest("abcd"))
    assert secrets_unchanged(normalized("abcd"), older) is True
    assert secrets_unchanged(normalized("abce"), older) is False


def test_a_v1_marker_is_still_compared_as_written() -> None:
    legacy = Marker("k", f"v1:{SALT}:spec:{_v1_digest('abcd')}", SALT, "spec", _v1_digest("abcd"))
    assert secrets_unchanged(normalized("abcd"), legacy) is True
    assert secrets_unchanged(normalized("abce"), legacy) is False


def _v1_digest(password: str) -> str:
    secrets = canonical_json((("password", password),))
    return digest(SALT + secrets)


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
