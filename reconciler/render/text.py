"""The plan as terminal text, Terraform-like, rendered from its JSON form.

One block per dataview with changes, one line per change (symbol, key,
handler type, export id, reason), indented field diffs and refusals; then the
exports exportctl leaves alone, and a summary line. No-ops are only counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.render._lines import (
    NO_CHANGES,
    change_title,
    field_line,
    is_change,
    summary_line,
)
from reconciler.render.style import bold, paint

__all__ = ["render_text"]

_SYMBOL_WIDTH = 3  # "-/+" is the widest symbol; others are right-aligned to it.


def render_text(plan_json: Mapping[str, Any], *, color: bool) -> str:
    """The whole plan as lines ending in a newline; ANSI colour only when ``color``."""
    lines: list[str] = []
    for dataview in plan_json["dataviews"]:
        lines.extend(_dataview_lines(dataview, color=color))
    lines.extend(_unmanaged_lines(plan_json, color=color))
    lines.extend(_summary_lines(plan_json, color=color))
    return "\n".join(lines) + "\n"


def _dataview_lines(dataview: Mapping[str, Any], *, color: bool) -> Iterator[str]:
    changes = [c for c in dataview["changes"] if is_change(c)]
    if not changes:
        return
    yield bold(f"dataview {dataview['dataview']['address']}", color=color)
    for change in changes:
        yield from _change_lines(change, color=color)
    unchanged = sum(1 for c in dataview["changes"] if c["action"] == "no-op")
    if unchanged:
        yield f"      # ({unchanged} unchanged export{'s' if unchanged != 1 else ''} hidden)"
    yield ""


def _change_lines(change: Mapping[str, Any], *, color: bool) -> Iterator[str]:
    symbol = change["symbol"]
    yield f"  {paint(symbol.rjust(_SYMBOL_WIDTH), symbol, color=color)} {change_title(change)}"
    for field in change["fields"]:
        field_symbol, text = field_line(field)
        yield f"        {paint(field_symbol, field_symbol, color=color)} {text}"
    if change["refused"] is not None:
        yield "        " + bold(f"! refused: {change['refused']}", color=color, fg="red")


def _unmanaged_lines(plan_json: Mapping[str, Any], *, color: bool) -> Iterator[str]:
    entries = [
        (dataview["dataview"]["address"], change)
        for dataview in plan_json["dataviews"]
        for change in dataview["changes"]
        if change["action"] == "unmanaged"
    ]
    if not entries:
        return
    title = "Not managed by exportctl (left alone; `prune: all` would delete them):"
    yield bold(title, color=color)
    for address, change in entries:
        yield f"  ? {address} {change_title(change)}"
    yield ""


def _summary_lines(plan_json: Mapping[str, Any], *, color: bool) -> Iterator[str]:
    summary = plan_json["summary"]
    if not summary["has_changes"]:
        yield NO_CHANGES
        return
    yield bold(summary_line(summary["counts"]), color=color)
    refused = sum(
        1 for dv in plan_json["dataviews"] for c in dv["changes"] if c["refused"] is not None
    )
    if refused:
        noun = "change" if refused == 1 else "changes"
        warning = f'Warning: apply will refuse {refused} {noun} marked "! refused".'
        yield bold(warning, color=color, fg="red")
