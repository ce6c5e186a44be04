"""Which live resource is which desired one: the marker and its hashes.

exportctl keeps no state file. Every declarative resource it writes carries a
marker, stored where its provider's API keeps free-form data (Mammoth: in an
export's ``additional_properties``) under the name ``MARKER_FIELD``::

    {"exportctl": {"key": "monthly-sales", "applied": "v1:<salt>:<spec>:<secret>"}}

A resource written with ``sensitive`` paths also carries ``"sensitive": [...]``:
a value once marked sensitive stays redacted in plans and drift reports after
the manifest stops marking it (its entry dropped, the export moved to another
handler) until an apply rewrites the marker.

A resource applied with ``protect: true`` also carries ``"protect": true``, so
that removing its entry from the manifest cannot delete it: the protection is
lifted only by applying ``protect: false`` first (Terraform's
``prevent_destroy`` forgets itself with the resource block; this does not).
Unprotected resources carry no ``protect`` key.

``applied`` has four ``:``-separated parts:

- ``v2``: the format version (``v1`` markers are still read, see below);
- ``salt``: random hex chosen when the marker is written;
- ``spec``: a short sha256 of the resource's normalized form (its kind's) as
  exportctl wrote it, secret values replaced by a placeholder. A live resource
  whose visible form no longer hashes to it was *changed by hand*; one that
  still does but differs from the manifest is *not yet applied*;
- ``secret``: a digest of the salt and the secret values (sorted by path). The
  API masks secrets, so this is the only way to see that a secret rotated in
  the environment: the planner digests the desired secrets with the live
  marker's salt and compares. Anyone who can read the resource sees it, so it
  must not let them test guesses cheaply. Its first letter says how it was
  made:

  - ``k``: an HMAC-SHA256 keyed with ``EXPORTCTL_MARKER_KEY`` (an environment
    variable, a long random string kept with the other CI secrets). Without
    the key a guess cannot be checked at all: use it.
  - ``s``: without a key, ``s<stretch salt>.<digest>``: the secrets are
    stretched with PBKDF2-SHA256 at ``STRETCH_ITERATIONS`` under a stretch
    salt, and the result keys an HMAC of the marker's salt. A guess costs a
    stretch, which only slows down a determined attacker: a weak secret (a
    4-character password) stays guessable on a GPU. This is the trade-off the
    key removes. One process (an apply) writes one stretch salt into all its
    markers, so a plan stretches each distinct secret once per stretch salt,
    not once per resource: 10,000 exports writing with one database password
    cost one stretch, not 10,000 (seconds). Resources sharing a secret still
    show different digests (each marker's own salt), and the stretch is
    remembered only in memory, for the process.
  - ``p``: as written before ``s`` (PBKDF2 under the marker's own salt, one
    stretch per resource per plan): still compared; the next apply that
    rewrites the marker writes ``s``.
  - ``n``: the resource has no secret.

  A ``v1`` marker's plain sha256 digest is still compared (so upgrading does
  not make every secret look rotated); the next apply that rewrites it writes
  ``v2``. A ``k`` marker planned without the key cannot be checked: a rotation
  then goes unseen until the key is set again.

Limitations:
- a secret changed by hand in a platform's UI is invisible while the API
  masks it; only a change on the manifest's side shows;
- the digests are 64 bits: enough to tell versions apart, not a proof;
- the ``spec`` digest is computed with today's normalization rules and the
  manifest's current ``ignore_changes``/``sensitive`` settings (and a kind's
  own, like Mammoth's ``sequence``); changing those (or a type's defaults)
  makes an untouched resource look *changed by hand* until the next apply.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Collection
from functools import cache
from typing import Any, NamedTuple

from reconciler.normalize import Normalized, canonical_json, digest

__all__ = [
    "MARKER_FIELD",
    "MARKER_KEY_ENV",
    "MARKER_VERSION",
    "STRETCH_ITERATIONS",
    "Marker",
    "applied_digest",
    "marker_for",
    "new_salt",
    "parse_marker",
    "secret_digest",
    "secrets_stand_in",
    "secrets_unchanged",
    "spec_digest",
]

MARKER_FIELD = "exportctl"  # the marker's name wherever a provider stores it
MARKER_VERSION = "v2"
_READABLE_VERSIONS = frozenset({"v1", MARKER_VERSION})
MARKER_KEY_ENV = "EXPORTCTL_MARKER_KEY"
# ~0.3 ms a digest on a 2-core CI machine: 10,000 exports with secrets plan in seconds.
STRETCH_ITERATIONS = 2_000
_NO_SECRET = "n"


class Marker(NamedTuple):
    """A parsed marker. The digests are ``None`` when ``applied`` is unreadable.

    A named tuple rather than a frozen dataclass: one is read per listed
    export, and a tuple is built several times faster.
    """

    key: str
    applied: str
    salt: str | None = None
    spec_digest: str | None = None
    secret_digest: str | None = None
    protect: bool = False
    sensitive: frozenset[str] = frozenset()  # paths the manifest marked sensitive when written

    @property
    def readable(self) -> bool:
        return self.salt is not None


def new_salt() -> str:
    """A fresh random salt for a marker about to be written."""
    return secrets.token_hex(8)


def parse_marker(raw: object) -> Marker | None:
    """The marker in ``raw`` (the stored marker object), or ``None`` without a usable key."""
    if not isinstance(raw, dict):  # parsed JSON: a FrozenDict; cheaper than a Mapping check
        return None
    key, applied = raw.get("key"), raw.get("applied")
    if not isinstance(key, str) or not key:
        return None
    applied = applied if isinstance(applied, str) else ""
    protect = raw.get("protect") is True
    listed = raw.get("sensitive")
    sensitive = (
        frozenset(p for p in listed if isinstance(p, str))
        if isinstance(listed, list | tuple)  # parsed JSON, or frozen (a tuple)
        else _NOTHING
    )
    parts = applied.split(":")
    if len(parts) != 4 or parts[0] not in _READABLE_VERSIONS or not all(parts[1:]):
        return Marker(key, applied, protect=protect, sensitive=sensitive)
    return Marker(
        key,
        applied,
        salt=parts[1],
        spec_digest=parts[2],
        secret_digest=parts[3],
        protect=protect,
        sensitive=sensitive,
    )


_NOTHING: frozenset[str] = frozenset()


def spec_digest(normalized: Normalized) -> str:
    """The hash of an export's visible form (secrets are placeholders in it)."""
    return digest(canonical_json(normalized.form))


def secret_digest(normalized: Normalized, salt: str) -> str:
    """The digest of a resource's secret values to write now (see the module docstring)."""
    if not normalized.secrets:
        return _NO_SECRET
    key = _marker_key()
    if key is not None:
        return "k" + _keyed(normalized, salt, key)
    stretch_salt = _stretch_salt()
    return f"s{stretch_salt}.{_shared_stretch(normalized, salt, stretch_salt)}"


def secrets_unchanged(normalized: Normalized, marker: Marker) -> bool | None:
    """Whether ``normalized``'s secrets are those the marker's digest was made of.

    ``None`` when that cannot be told: the digest is keyed and no key is set.
    """
    written = marker.secret_digest or ""
    if marker.applied.startswith("v1:"):
        return _legacy(normalized, marker.salt or "") == written
    if written == _NO_SECRET or not normalized.secrets:
        return written == _NO_SECRET and not normalized.secrets
    scheme, value = written[:1], written[1:]
    if scheme == "k":
        key = _marker_key()
        if key is None:
            return None
        return hmac.compare_digest(_keyed(normalized, marker.salt or "", key), value)
    if scheme == "s" and "." in value:
        stretch_salt, shown = value.split(".", 1)
        made = _shared_stretch(normalized, marker.salt or "", stretch_salt)
        return hmac.compare_digest(made, shown)
    return scheme == "p" and hmac.compare_digest(_stretched(normalized, marker.salt or ""), value)


def secrets_stand_in(normalized: Normalized, context: str) -> str:
    """A digest of the secret values that is the same in every run, for a text
    anyone on the way may read (Mammoth's ``Idempotency-Key`` header).

    It cannot take a fresh salt: a rerun after a crash must send the same
    key. A plain hash would let whoever logs the header test guesses at
    sha256 speed, so it is made as a marker's digest is: keyed with
    ``EXPORTCTL_MARKER_KEY`` when set, else stretched (PBKDF2) under
    ``context``, which should name the place of the change (a scope), so
    that the same secret shows differently elsewhere and one stretch serves
    every change of one place sharing a secret.
    """
    if not normalized.secrets:
        return _NO_SECRET
    key = _marker_key()
    if key is not None:
        return "k" + _keyed(normalized, context, key)
    return "s" + _stretch(_secret_text(normalized), context).hex()[:16]


def _marker_key() -> bytes | None:
    key = os.environ.get(MARKER_KEY_ENV)
    return key.encode("utf-8", "surrogateescape") if key else None


def _secret_text(normalized: Normalized) -> bytes:
    # The (path, value) tuples serialize as JSON arrays as they are: no copy.
    return canonical_json(normalized.secrets).encode("utf-8", "surrogateescape")


def _keyed(normalized: Normalized, salt: str, key: bytes) -> str:
    message = salt.encode() + b":" + _secret_text(normalized)
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def _stretched(normalized: Normalized, salt: str) -> str:
    """A ``p`` digest: stretched under the marker's own salt, as written before ``s``."""
    return _stretch(_secret_text(normalized), salt).hex()[:16]


def _shared_stretch(normalized: Normalized, salt: str, stretch_salt: str) -> str:
    stretched = _stretch(_secret_text(normalized), stretch_salt)
    return hmac.new(stretched, salt.encode(), hashlib.sha256).hexdigest()[:16]


@cache
def _stretch(secret_text: bytes, salt: str) -> bytes:
    """PBKDF2 of one set of secret values: the cost of a guess, paid once per process
    for each salt (an ``s`` digest's stretch salt, a ``p`` digest's own)."""
    return hashlib.pbkdf2_hmac("sha256", secret_text, salt.encode(), STRETCH_ITERATIONS)


@cache
def _stretch_salt() -> str:
    """The stretch salt of every ``s`` digest this process writes (see the module docstring)."""
    return new_salt()


def _legacy(normalized: Normalized, salt: str) -> str:
    """A ``v1`` marker's secret digest: one plain sha256, no longer written."""
    secrets = canonical_json(normalized.secrets) if normalized.secrets else "[]"
    return digest(salt + secrets)


def applied_digest(normalized: Normalized, salt: str) -> str:
    """The ``applied`` value to write for a desired resource in its normalized form."""
    return ":".join(
        (MARKER_VERSION, salt, spec_digest(normalized), secret_digest(normalized, salt))
    )


def marker_for(
    key: str,
    protect: bool,
    normalized: Normalized,
    salt: str,
    sensitive: Collection[str] = (),
) -> dict[str, Any]:
    """The marker object a provider stores under ``MARKER_FIELD`` for a desired resource.

    ``sensitive`` are the paths the manifest marks sensitive beyond the kind's
    own secrets (see the module docstring for why the marker keeps them).
    """
    if not salt or ":" in salt:
        raise ValueError("a marker salt must be non-empty and contain no ':'")
    marker: dict[str, Any] = {"key": key, "applied": applied_digest(normalized, salt)}
    if protect:
        marker["protect"] = True
    if sensitive:
        marker["sensitive"] = sorted(sensitive)
    return marker
