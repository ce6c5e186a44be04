"""Mailgun's export records as they travel: ``{"id", "status", "url"}``.

That is the whole record (no creation time, size or error text), so this
module also reads the one hint of age the API gives: ids are MongoDB
ObjectIds whose first four bytes are the creation time in Unix seconds.
Parsing is lenient where real answers vary (``{"items": null}`` from an empty
list, a create answer of only ``{"message": "success"}``) and strict about
what a reconciler relies on: every item has string ``id``, ``status`` and
``url``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COMPLETE",
    "PROCESSING",
    "REQUESTED",
    "Export",
    "created_at",
    "parse_created",
    "parse_export",
    "parse_items",
]

# The statuses the last published docs name; no failure status is documented.
REQUESTED = "requested"
PROCESSING = "processing"
COMPLETE = "complete"

_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")


@dataclass(frozen=True)
class Export:
    """One export as the API lists it; ``url`` exactly as the server stored it."""

    id: str
    status: str
    url: str


def parse_export(value: Any) -> Export:
    """An ``Export`` from one JSON object; ``ValueError`` saying what is missing."""
    if not isinstance(value, Mapping):
        raise ValueError("an export is not a JSON object")
    fields = {}
    for name in ("id", "status", "url"):
        field = value.get(name)
        if not isinstance(field, str):
            raise ValueError(f"an export has no text {name!r}")
        fields[name] = field
    return Export(**fields)


def parse_items(body: Any) -> tuple[Export, ...]:
    """The exports of a list answer ``{"items": [...]}``, in the server's order.

    ``{"items": null}`` is an empty list: the Go reference server answers so
    before the first export exists.
    """
    if not isinstance(body, Mapping) or "items" not in body:
        raise ValueError("no 'items' in the answer")
    items = body["items"]
    if items is None:
        return ()
    if not isinstance(items, list):
        raise ValueError("'items' is not a list")
    return tuple(parse_export(item) for item in items)


def parse_created(body: Any) -> Export | None:
    """The export a create answer describes, or ``None`` when it names none.

    The docs show ``{id, status: "requested", url}``; the Go reference client
    throws the answer away and its mock sends ``{"message": "success"}``. So
    an answer without an export is not an error: the caller finds the export
    by listing its URL.
    """
    try:
        return parse_export(body)
    except ValueError:
        return None


def created_at(export_id: str) -> float | None:
    """When an export was created (Unix seconds), read from its ObjectId.

    ``None`` for ids that are not 24 hex digits: the API calls ids opaque and
    Mailgun's own mock numbers them ``"0"``, ``"1"``...
    """
    if not _OBJECT_ID.fullmatch(export_id):
        return None
    return float(int(export_id[:8], 16))
