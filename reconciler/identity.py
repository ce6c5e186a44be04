"""Which live resource is which desired one: the marker and its hashes.

exportctl keeps no state file. Every declarative resource it writes carries a
marker, stored where its provider's API keeps free-form data (Mammoth: in an
export's ``additional_properties``) under the name ``MARKER_FIELD``::

    {"exportctl": {"key": "monthly-sales", "applied": "v1:<salt>:<spec>:<secret>"}}

A resource applied with ``protect: true`` also carries ``"protect": true``, so
that removing its entry from the manifest cannot delete it: the protection is
lifted only by applying ``protect: false`` first (Terraform's
``prevent_destroy`` forgets itself with the resource block; this does not).
Unprotected resources carry no ``protect`` key.

``applied`` has four ``:``-separated parts:

- ``v1``: the format version;
- ``salt``: random hex chosen when the marker is written;
- ``spec``: a short sha256 of the resource's normalized form (its kind's) as
  exportctl wrote it, secret values replaced by a placeholder. A live resource
  whose visible form no longer hashes to it was *changed by hand*; one that
  still does but differs from the manifest is *not yet applied*;
- ``secret``: a short sha256 of the salt and the secret values (sorted by
  path). The API masks secrets, so this is the only way to see that a secret
  rotated in the environment: the planner hashes the desired secrets with the
  live marker's salt and compares.

Limitations:
- a secret changed by hand in a platform's UI is invisible while the API
  masks it; only a change on the manifest's side shows;
- the digests are 64 bits: enough to tell versions apart, not a proof;
- anyone who can read the resource sees the salt and the secret digest, so a
  weak (guessable) secret can be confirmed by brute force. Use strong secrets;
- the ``spec`` digest is computed with today's normalization rules and the
  manifest's current ``ignore_changes``/``sensitive`` settings (and a kind's
  own, like Mammoth's ``sequence``); changing those (or a type's defaults)
  makes an untouched resource look *changed by hand* until the next apply.
"""

from __future__ import annotations

import secrets
from typing import Any, NamedTuple

from reconciler.normalize import Normalized, canonical_json, digest

__all__ = [
    "MARKER_FIELD",
    "MARKER_VERSION",
    "Marker",
    "applied_digest",
    "marker_for",
    "new_salt",
    "parse_marker",
    "secret_digest",
    "spec_digest",
]

MARKER_FIELD = "exportctl"  # the marker's name wherever a provider stores it
MARKER_VERSION = "v1"


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
    parts = applied.split(":")
    if len(parts) != 4 or parts[0] != MARKER_VERSION or not all(parts[1:]):
        return Marker(key, applied, protect=protect)
    return Marker(
        key, applied, salt=parts[1], spec_digest=parts[2], secret_digest=parts[3], protect=protect
    )


def spec_digest(normalized: Normalized) -> str:
    """The hash of an export's visible form (secrets are placeholders in it)."""
    return digest(canonical_json(normalized.form))


def secret_digest(normalized: Normalized, salt: str) -> str:
    """The salted hash of an export's secret values, sorted by path."""
    # The (path, value) tuples serialize as JSON arrays as they are: no copy.
    secrets = canonical_json(normalized.secrets) if normalized.secrets else "[]"
    return digest(salt + secrets)


def applied_digest(normalized: Normalized, salt: str) -> str:
    """The ``applied`` value to write for a desired resource in its normalized form."""
    return ":".join(
        (MARKER_VERSION, salt, spec_digest(normalized), secret_digest(normalized, salt))
    )


def marker_for(key: str, protect: bool, normalized: Normalized, salt: str) -> dict[str, Any]:
    """The marker object a provider stores under ``MARKER_FIELD`` for a desired resource."""
    if not salt or ":" in salt:
        raise ValueError("a marker salt must be non-empty and contain no ':'")
    marker: dict[str, Any] = {"key": key, "applied": applied_digest(normalized, salt)}
    if protect:
        marker["protect"] = True
    return marker
