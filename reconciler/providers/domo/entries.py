"""One ``domo.s3_exports`` manifest entry as typed values, ready for the client.

The manifest's JSON Schema (``schemas/domo/s3_exports.schema.json``) checks
shapes; this module turns a checked entry, its ``${env:...}`` references
resolved, into an ``S3ExportEntry`` and adds the checks a schema cannot make
well: the region against the real list (naming the nearest code), ``max_age``
as a duration, temporary AWS keys without their session token.

The query is kept in the shape Domo's wire wants (``{"columns": [{"column":
..., "exprType": "COLUMN"}], "groupByColumns": [...], "orderByColumns":
[...], "where": ...}``), so ``columns: [Region]`` and the long form of the
same column are one request, not two, and the body needs no second mapping.

Credentials are write-only: ``AwsCredentials`` never shows its values in a
``repr`` or ``str``, and is left out of ``ExportRequest`` equality, so a
rotated key is never a difference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from reconciler.model import FrozenDict, freeze
from reconciler.providers.domo.regions import region_problem

__all__ = [
    "AwsCredentials",
    "EntryError",
    "ExportRequest",
    "S3ExportEntry",
    "entry_from_manifest",
    "normalize_query",
    "parse_max_age",
]

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
# AWS access key ids of temporary (STS) credentials start with ASIA; those
# only work together with their session token.
_TEMPORARY_KEY_PREFIX = "ASIA"


class EntryError(ValueError):
    """A problem with one field of an entry; the message never holds a credential."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path
        self.message = message


@dataclass(frozen=True)
class AwsCredentials:
    """The AWS credentials Domo uses once to write to the bucket; never shown, never stored."""

    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    kms_key: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return "AwsCredentials(<redacted>)"

    __str__ = __repr__

    def values(self) -> tuple[str, ...]:
        """Every value set, so a client can keep each one out of what it shows."""
        candidates = (self.access_key, self.secret_key, self.session_token, self.kms_key)
        return tuple(value for value in candidates if value)


@dataclass(frozen=True)
class ExportRequest:
    """One export of a DataSet to S3, as exportctl will ask Domo for it.

    ``path`` has no leading or trailing ``/``; ``query`` is in Domo's wire
    shape (see ``normalize_query``) or ``None`` for the whole DataSet.
    ``credentials`` take no part in equality: they are write-only.
    """

    dataset_id: str
    bucket: str
    path: str
    region: str
    query: FrozenDict | None
    include_bom: bool
    credentials: AwsCredentials = field(compare=False)

    @property
    def destination(self) -> str:
        """Where the files go, as a user reads it; each export adds ``/<exportId>/...``."""
        return f"s3://{self.bucket}/{self.path}"


@dataclass(frozen=True)
class S3ExportEntry:
    """A manifest entry: a key for messages, the request, and how old a good export may be."""

    key: str
    request: ExportRequest
    max_age: timedelta


def parse_max_age(text: str) -> timedelta:
    """``30m``, ``6h``, ``1d``, or a combination in that order (``1d12h``), into a duration.

    Seconds (``90s``) are accepted too; zero is refused, since no export could
    ever be fresh.
    """
    match = _DURATION.match(text.strip()) if text.strip() else None
    if match is None:
        raise EntryError(
            "max_age",
            f"{text!r} is not a duration: write a number and a unit, "
            "d (days), h (hours), m (minutes) or s (seconds), e.g. '6h', '30m', '1d12h'",
        )
    days, hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    age = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not age:
        raise EntryError("max_age", f"{text!r} is zero: no export would ever count as fresh")
    return age


def normalize_query(query: Mapping[str, Any] | None) -> FrozenDict | None:
    """The manifest's ``query`` in Domo's wire shape, every list present.

    ``columns``, ``group_by`` and ``order_by`` items are column names or Domo
    expressions (objects, sent as written); a name becomes ``{"column": name,
    "exprType": "COLUMN"}``. ``where`` is a Domo filter expression, sent as
    written.
    """
    if query is None:
        return None
    wire: dict[str, Any] = {
        "columns": _expressions(query.get("columns")),
        "groupByColumns": _expressions(query.get("group_by")),
        "orderByColumns": _expressions(query.get("order_by")),
    }
    if query.get("where") is not None:
        wire["where"] = query["where"]
    frozen: FrozenDict = freeze(wire)
    return frozen


def _expressions(items: Any) -> list[Any]:
    return [
        {"column": item, "exprType": "COLUMN"} if isinstance(item, str) else item
        for item in items or ()
    ]


def entry_from_manifest(item: Mapping[str, Any]) -> S3ExportEntry:
    """A schema-checked entry, ``${env:...}`` already resolved, as typed values.

    Raises ``EntryError`` naming the field for what the schema cannot check.
    """
    path = str(item["path"]).strip("/")
    if not path:
        raise EntryError("path", "is empty: name a folder in the bucket, e.g. 'exports/sales'")
    region = str(item["region"])
    problem = region_problem(region)
    if problem is not None:
        raise EntryError("region", problem)
    request = ExportRequest(
        dataset_id=str(item["dataset_id"]).lower(),
        bucket=str(item["bucket"]),
        path=path,
        region=region,
        query=normalize_query(item.get("query")),
        include_bom=bool(item.get("include_bom", False)),
        credentials=_credentials(item["credentials"]),
    )
    return S3ExportEntry(str(item["key"]), request, parse_max_age(str(item["max_age"])))


def _credentials(raw: Mapping[str, Any]) -> AwsCredentials:
    access_key = str(raw["access_key"])
    session_token = raw.get("session_token") or None
    if access_key.startswith(_TEMPORARY_KEY_PREFIX) and session_token is None:
        raise EntryError(
            "credentials.session_token",
            "access_key is a temporary AWS key (it starts with ASIA), which only works "
            "with its session token: set session_token too",
        )
    return AwsCredentials(
        access_key=access_key,
        secret_key=str(raw["secret_key"]),
        session_token=None if session_token is None else str(session_token),
        kms_key=str(raw["kms_key"]) if raw.get("kms_key") else None,
    )
