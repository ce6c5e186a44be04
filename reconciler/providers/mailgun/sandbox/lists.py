"""The API lists the sandbox can export, and how an export turns them into CSV.

A real export copies one of Mailgun's API lists (``domains``,
``<domain>/bounces``, ...) into "a CSV file made available from S3"; the
docs give no columns. The sandbox holds rows per normalized URL, starts with
a few (``DEFAULT_LISTS``) so a first export has content, and takes more
through ``POST /_sandbox/mailgun/lists``. Columns are the rows' field names
in the order they first appear; a list without rows exports an empty file.
Any URL may be exported: nothing documents which ones Mailgun refuses.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["DEFAULT_LISTS", "render_csv"]

_DOMAIN = "sandbox.example.com"

DEFAULT_LISTS: dict[str, list[dict[str, Any]]] = {
    "domains": [
        {"name": _DOMAIN, "state": "active", "type": "sandbox", "created_at": "2026-01-05"},
        {"name": "mg.example.org", "state": "unverified", "type": "custom", "created_at": ""},
    ],
    f"{_DOMAIN}/bounces": [
        {"address": "gone@example.net", "code": "550", "error": "No such mailbox"},
        {"address": "full@example.net", "code": "552", "error": "Mailbox full"},
    ],
    f"{_DOMAIN}/unsubscribes": [{"address": "bye@example.net", "tags": ["*"]}],
}


def render_csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """RFC 4180 CSV in UTF-8: a header of every field name, then one line per row.

    Text and numbers are written as they are, ``None`` as an empty cell,
    lists and objects as JSON.
    """
    listed = list(rows)
    columns = list(dict.fromkeys(name for row in listed for name in row))
    if not columns:
        return b""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in listed:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
