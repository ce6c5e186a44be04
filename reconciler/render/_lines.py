"""Wording shared by the text and Markdown views, read from the plan's JSON form.

Kept in one place so a change, a field diff or the summary reads the same in a
terminal and in a pull-request comment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.plan import SENSITIVE

__all__ = [
    "NO_CHANGES",
    "SUMMARY_ACTIONS",
    "change_title",
    "field_line",
    "field_parts",
    "format_value",
    "is_change",
    "summary_line",
]

# (action, verb) in the order the summary line lists them; Terraform's words.
SUMMARY_ACTIONS: tuple[tuple[str, str], ...] = (
    ("add", "add"),
    ("edit", "change"),
    ("replace", "replace"),
    ("delete", "destroy"),
    ("adopt", "adopt"),
)

NO_CHANGES = "No changes. Live exports match the manifest."


def is_change(change: Mapping[str, Any]) -> bool:
    """Whether apply acts on it: unmanaged and no-op entries are only records."""
    return change["action"] not in ("unmanaged", "no-op")


def summary_line(counts: Mapping[str, int]) -> str:
    parts = ", ".join(f"{counts[action]} to {verb}" for action, verb in SUMMARY_ACTIONS)
    return f"Plan: {parts}."


def change_title(change: Mapping[str, Any]) -> str:
    """``key (handler, export 12): reason`` with no symbol."""
    where = change["handler_type"]
    if change["export_id"] is not None:
        where += f", export {change['export_id']}"
    return f"{change['key']} ({where}): {change['reason']}"


def format_value(value: Any) -> str:
    """JSON-ish: strings quoted, objects compact with sorted keys."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def field_parts(field: Mapping[str, Any]) -> tuple[str, str, str]:
    """(symbol, old, new) for one field diff, redacting sensitive values again.

    The JSON form is already redacted; redacting here too means a hand-made
    or tampered JSON document cannot make a renderer print a secret.
    """
    old, new = field["old"], field["new"]
    symbol = "+" if old is None else "-" if new is None else "~"
    if field["sensitive"]:
        return symbol, _sensitive(old), _sensitive(new)
    return symbol, format_value(old), format_value(new)


def field_line(field: Mapping[str, Any]) -> tuple[str, str]:
    """(symbol, text): ``+ path: new``, ``- path: old`` or ``~ path: old -> new``."""
    symbol, old, new = field_parts(field)
    values = {"+": new, "-": old, "~": f"{old} -> {new}"}[symbol]
    return symbol, f"{field['path']}: {values}"


def _sensitive(value: Any) -> str:
    return "null" if value is None else SENSITIVE
