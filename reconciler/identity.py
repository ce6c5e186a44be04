"""Which live export is which desired one: the marker, its hash, and addresses.

exportctl keeps no state file. Every export it writes carries a marker in
``additional_properties``::

    {"exportctl": {"key": "monthly-sales", "applied": "v1:<salt>:<spec>:<secret>"}}

An export applied with ``protect: true`` also carries ``"protect": true``, so
that removing its entry from the manifest cannot delete it: the protection is
lifted only by applying ``protect: false`` first (Terraform's
``prevent_destroy`` forgets itself with the resource block; this does not).
Unprotected exports carry no ``protect`` key.

``applied`` has four ``:``-separated parts:

- ``v1``: the format version;
- ``salt``: random hex chosen when the marker is written;
- ``spec``: a short sha256 of the export's normalized form (``normalize``) as
  exportctl wrote it, secret values replaced by a placeholder. A live export
  whose visible form no longer hashes to it was *changed by hand*; one that
  still does but differs from the manifest is *not yet applied*;
- ``secret``: a short sha256 of the salt and the secret values (sorted by
  path). The API masks secrets, so this is the only way to see that a secret
  rotated in the environment: the planner hashes the desired secrets with the
  live marker's salt and compares.

Limitations:
- a secret changed by hand in the Mammoth UI is invisible while the API
  masks it; only a change on the manifest's side shows;
- the digests are 64 bits: enough to tell versions apart, not a proof;
- anyone who can read the export sees the salt and the secret digest, so a
  weak (guessable) secret can be confirmed by brute force. Use strong secrets;
- the ``spec`` digest is computed with today's normalization rules and the
  manifest's current ``ignore_changes``/``sequence``/``sensitive`` settings;
  changing those (or a handler's defaults) makes an untouched export look
  *changed by hand* until the next apply.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, NamedTuple

from reconciler.model import ExportSpec, LiveExport
from reconciler.normalize import (
    MARKER_FIELD,
    Normalized,
    canonical_json,
    digest,
    normalize_desired,
)
from reconciler.providers.mammoth import handlers

__all__ = [
    "MARKER_VERSION",
    "Marker",
    "applied_digest",
    "marker_for",
    "natural_address",
    "new_salt",
    "read_marker",
    "secret_digest",
    "spec_digest",
]

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


def read_marker(live: LiveExport) -> Marker | None:
    """The marker of a live export, or ``None`` when it carries no usable key."""
    raw = live.additional_properties.get(MARKER_FIELD)
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


def applied_digest(spec: ExportSpec, salt: str) -> str:
    """The ``applied`` value to write for a desired export."""
    normalized = normalize_desired(spec)
    return ":".join(
        (MARKER_VERSION, salt, spec_digest(normalized), secret_digest(normalized, salt))
    )


def marker_for(spec: ExportSpec, salt: str) -> dict[str, Any]:
    """The marker object that goes into ``additional_properties["exportctl"]``."""
    if not salt or ":" in salt:
        raise ValueError("a marker salt must be non-empty and contain no ':'")
    marker: dict[str, Any] = {"key": spec.key, "applied": applied_digest(spec, salt)}
    if spec.protect:
        marker["protect"] = True
    return marker


def natural_address(
    handler_type: str, target_properties: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """Where an export writes to, or ``None`` when its handler names no address.

    # Limitation: handlers without a target schema file have no known address,
    # so their unmarked exports are never adopted, only listed as unmanaged.
    """
    try:
        return handlers.address_of(handler_type, target_properties)
    except (KeyError, FileNotFoundError):
        return None
