"""Domo's export wire format: the POST body out, status objects in.

Where Domo's OpenAPI file and its documentation prose disagree, the prose
and its examples win (they are what the server answers):

- ``queryRequest`` is sent as a JSON object, not the string the spec types;
- ``urlRowCountMap`` is read as an object of file URL to row count (a JSON
  string of one is accepted too, as the spec types it);
- ``started`` and ``finished`` are read in either documented form:
  milliseconds since the epoch (a number or a numeric string) or ISO 8601.

Parsing is defensive: a status object without a usable ``exportId`` is
skipped (nothing could refer to it), unknown fields are ignored, and an
unknown ``exportStatus`` is kept as written for ``kinds`` to surface.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.model import thaw
from reconciler.providers.domo.entries import ExportRequest

__all__ = [
    "DatasetExports",
    "ExportFile",
    "ExportRecord",
    "parse_record",
    "parse_records",
    "parse_time",
    "request_body",
]

_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def request_body(request: ExportRequest) -> dict[str, Any]:
    """The POST body; it holds the credentials, so it goes to the wire and nowhere else."""
    credentials = request.credentials
    body: dict[str, Any] = {
        "bucket": request.bucket,
        "path": request.path,
        "region": request.region,
        "awsAccessKey": credentials.access_key,
        "awsAccessSecret": credentials.secret_key,
    }
    if credentials.session_token:
        body["sessionToken"] = credentials.session_token
    if credentials.kms_key:
        body["awsKmsKey"] = credentials.kms_key
    query_request: dict[str, Any] = {"includeBOM": request.include_bom}
    if request.query is not None:
        query_request["query"] = thaw(request.query)
    # Without a query and without a BOM there is nothing to say: Domo exports
    # the whole DataSet, as when queryRequest is left out.
    if request.query is not None or request.include_bom:
        body["queryRequest"] = query_request
    return body


def parse_time(value: Any) -> datetime | None:
    """A Domo timestamp in UTC: epoch milliseconds (number or numeric string) or ISO 8601.

    ``None`` when absent, empty, zero or negative (Domo's "not yet"), or
    unreadable: an age that cannot be known is treated as "no export yet".
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_millis(float(value))
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if _NUMBER.match(text):
        return _from_millis(float(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _from_millis(millis: float) -> datetime | None:
    if millis <= 0:
        return None
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class ExportFile:
    """One file an export wrote, and how many rows it holds (``None`` when not said)."""

    url: str
    rows: int | None


@dataclass(frozen=True)
class ExportRecord:
    """One status object of Domo's: an export of a DataSet, running or done.

    ``status`` is ``exportStatus`` as Domo wrote it (``kinds.phase_of`` maps
    it).
    """

    export_id: str
    status: str
    started: datetime | None
    finished: datetime | None
    bucket: str | None
    compression: str | None
    export_format: str | None
    files: tuple[ExportFile, ...]
    error_code: str | None
    message: str | None

    @property
    def rows(self) -> int | None:
        """Rows written across the files; ``None`` when Domo gave no count."""
        counts = [f.rows for f in self.files]
        if not counts or None in counts:
            return None
        return sum(c for c in counts if c is not None)

    @property
    def destination(self) -> tuple[str | None, str | None]:
        """``(bucket, path)`` of ``<bucket>/<path>/<exportId>/export/data.csv.gz``.

        Domo's answer names the bucket but not the path, so the path is read
        back from the written files' URLs; ``None`` where neither tells.
        """
        bucket = self.bucket
        for file in self.files:
            url_bucket, segments = _location(file.url)
            bucket = bucket or url_bucket
            if self.export_id in segments:
                return bucket, "/".join(segments[: segments.index(self.export_id)])
        return bucket, None

    @property
    def when(self) -> datetime | None:
        """When the export's data was taken: its finish, else its start."""
        return self.finished or self.started


def parse_record(value: Any) -> ExportRecord | None:
    """One status object, or ``None`` when it has no ``exportId`` to refer to it by."""
    if not isinstance(value, Mapping):
        return None
    export_id = value.get("exportId")
    if not isinstance(export_id, str) or not export_id.strip():
        return None
    return ExportRecord(
        export_id=export_id.strip(),
        status=_text(value.get("exportStatus")) or "",
        started=parse_time(value.get("started")),
        finished=parse_time(value.get("finished")),
        bucket=_text(value.get("bucket")),
        compression=_text(value.get("compression")),
        export_format=_text(value.get("exportFormat")),
        files=_files(value.get("urlRowCountMap")),
        error_code=_text(value.get("errorCode")),
        message=_text(value.get("message")),
    )


def parse_records(values: Iterable[Any]) -> tuple[ExportRecord, ...]:
    """Status objects, oldest first (Domo's array has no documented order)."""
    records = [r for r in map(parse_record, values) if r is not None]
    oldest = datetime.min.replace(tzinfo=UTC)
    return tuple(sorted(records, key=lambda r: r.started or oldest))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _files(value: Any) -> tuple[ExportFile, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return (ExportFile(value, None),) if value.strip() else ()
    if not isinstance(value, Mapping):
        return ()
    return tuple(ExportFile(str(url), _count(rows)) for url, rows in sorted(value.items()) if url)


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _location(url: str) -> tuple[str | None, list[str]]:
    """The bucket (when the URL names it) and the key's segments of an S3 file URL.

    Accepts ``s3://bucket/key``, ``https://bucket.s3.<region>.amazonaws.com/key``,
    ``https://s3.<region>.amazonaws.com/bucket/key`` and a bare ``bucket/key``.
    """
    parsed = urllib.parse.urlsplit(url)
    if not (parsed.scheme and parsed.netloc):  # bare bucket/key
        parts = [urllib.parse.unquote(s) for s in url.split("?", 1)[0].split("/") if s]
        return (parts[0], parts[1:]) if parts else (None, [])
    parts = [urllib.parse.unquote(s) for s in parsed.path.split("/") if s]
    host = parsed.netloc.lower()
    if parsed.scheme == "s3":
        return host, parts
    if host.startswith(("s3.", "s3-")):  # path style: the bucket comes first
        return (parts[0], parts[1:]) if parts else (None, [])
    if ".s3." in host or ".s3-" in host:  # virtual-hosted style
        return host.split(".s3", 1)[0], parts
    return None, parts


@dataclass(frozen=True)
class DatasetExports:
    """Every export Domo reports for one DataSet, and the server's time when it said so.

    ``server_time`` comes from the answer's ``Date`` header, so ages are
    measured by Domo's clock, not by a CI runner's.
    """

    dataset_id: str
    records: tuple[ExportRecord, ...]
    server_time: datetime

    def by_id(self, export_id: str) -> ExportRecord | None:
        return next((r for r in self.records if r.export_id == export_id), None)

    def latest(self) -> ExportRecord | None:
        return self.records[-1] if self.records else None

    def to_destination(self, bucket: str, path: str) -> tuple[ExportRecord, ...]:
        """The exports whose files went to ``bucket``/``path``, oldest first."""
        return tuple(r for r in self.records if r.destination == (bucket, path))
