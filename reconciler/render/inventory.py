"""``exportctl get``'s table, kubectl-style, rendered from the inventory's JSON form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.render._lines import common_word

__all__ = ["render_inventory_table"]

_GAP = "   "


def render_inventory_table(inventory: Mapping[str, Any]) -> str:
    """One row per live resource; an empty inventory says so instead of a bare header."""
    rows = inventory["resources"]
    if not rows:
        return "No live resources in the selected scopes.\n"
    scope_word = common_word({"scopes": [{"scope": r} for r in rows]}, "noun", "scope")
    header = (scope_word.upper(), "ID", "KEY", "TYPE", "MANAGED", "STATE")
    body = [
        (r["address"], r["id"], r["key"], r["type"], "yes" if r["managed"] else "no", r["state"])
        for r in rows
    ]
    return "".join(_line(cells, _widths([header, *body])) for cells in [header, *body])


def _widths(table: Sequence[Sequence[str]]) -> list[int]:
    return [max(len(row[column]) for row in table) for column in range(len(table[0]))]


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return (
        _GAP.join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        + "\n"
    )
