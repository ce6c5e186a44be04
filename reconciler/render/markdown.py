"""The plan as a pull-request comment, rendered from its JSON form.

A hidden marker lets CI find its earlier comment and edit it in place; a
summary and two tables come first so a reviewer sees the size of the change
at a glance; per-dataview details are folded, in ``diff`` fences so GitHub
colours the lines. GitHub refuses comments over 65,536 characters, so a large
plan is summarised step by step (field diffs first, then whole dataviews) and
the comment says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.render._lines import (
    NO_CHANGES,
    SUMMARY_ACTIONS,
    change_title,
    field_parts,
    is_change,
    summary_line,
)

__all__ = ["GITHUB_COMMENT_LIMIT", "MARKER", "render_markdown"]

MARKER = "<!-- exportctl-plan -->"
GITHUB_COMMENT_LIMIT = 65536

# Columns of both tables: (JSON action, heading).
_COLUMNS: tuple[tuple[str, str], ...] = (
    *SUMMARY_ACTIONS,
    ("unmanaged", "unmanaged"),
    ("no-op", "unchanged"),
)
# The longest note _note() can write, so the budget leaves room for it.
_NOTE_RESERVE = 300


@dataclass(frozen=True)
class _Section:
    """One dataview worth showing: its table row and its folded details."""

    row: str
    details: str
    details_without_fields: str


def render_markdown(plan_json: Mapping[str, Any], *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The comment, at most ``limit`` characters long."""
    sections = [_section(dv) for dv in plan_json["dataviews"] if _worth_showing(dv)]
    hidden = len(plan_json["dataviews"]) - len(sections)
    full = _assemble(plan_json, sections, [s.details for s in sections], hidden, note="")
    if len(full) <= limit:
        return full
    return _summarised(plan_json, sections, hidden, limit)


def _summarised(
    plan_json: Mapping[str, Any], sections: Sequence[_Section], hidden: int, limit: int
) -> str:
    """Drop field diffs; then keep whole rows and details blocks while they fit."""
    empty = _assemble(plan_json, [], [], hidden, note="")
    budget = limit - len(empty) - _NOTE_RESERVE
    rows: list[_Section] = []
    for section in sections:
        if len(section.row) + 1 <= budget:
            rows.append(section)
            budget -= len(section.row) + 1
    blocks: list[str] = []
    for section in rows:
        if len(section.details_without_fields) + 2 <= budget:
            blocks.append(section.details_without_fields)
            budget -= len(section.details_without_fields) + 2
    note = _note(summarised=len(sections) - len(blocks), untabled=len(sections) - len(rows))
    return _assemble(plan_json, rows, blocks, hidden, note=note)


def _note(*, summarised: int, untabled: int) -> str:
    parts = ["field changes left out"]
    if summarised:
        parts.append(f"{summarised} dataview{'s' if summarised != 1 else ''} summarised")
    if untabled:
        parts.append(f"{untabled} left out of the table")
    return (
        f"> **Plan too large to show in full**; {', '.join(parts)}. "
        "See the job log/artifact for the full plan."
    )


def _assemble(
    plan_json: Mapping[str, Any],
    sections: Sequence[_Section],
    blocks: Sequence[str],
    hidden: int,
    *,
    note: str,
) -> str:
    parts = [MARKER, "## exportctl plan", "", *_summary(plan_json)]
    if note:
        parts += ["", note]
    parts += ["", *_action_table(plan_json["summary"]["counts"])]
    if sections:
        parts += ["", *_dataview_table_head(), *(s.row for s in sections)]
    if hidden:
        noun = "dataview has" if hidden == 1 else "dataviews have"
        other = " other" if sections else ""
        parts += ["", f"{hidden}{other} {noun} nothing to change."]
    for block in blocks:
        parts += ["", block]
    return "\n".join(parts) + "\n"


def _summary(plan_json: Mapping[str, Any]) -> Iterator[str]:
    summary = plan_json["summary"]
    if not summary["has_changes"]:
        yield NO_CHANGES
        return
    yield f"**{summary_line(summary['counts'])}**"
    refused = sum(
        1 for dv in plan_json["dataviews"] for c in dv["changes"] if c["refused"] is not None
    )
    if refused:
        noun = "change" if refused == 1 else "changes"
        yield ""
        yield f"> **Warning:** apply will refuse {refused} {noun} marked `! refused`."


def _action_table(counts: Mapping[str, int]) -> list[str]:
    return [
        "| Action | Count |",
        "| --- | ---: |",
        *(f"| {heading} | {counts[action]} |" for action, heading in _COLUMNS),
    ]


def _dataview_table_head() -> list[str]:
    headings = " | ".join(heading for _, heading in _COLUMNS)
    return [f"| Dataview | {headings} |", "| --- |" + " ---: |" * len(_COLUMNS)]


def _worth_showing(dataview: Mapping[str, Any]) -> bool:
    return any(c["action"] != "no-op" for c in dataview["changes"])


def _section(dataview: Mapping[str, Any]) -> _Section:
    counts = _counts(dataview)
    address = dataview["dataview"]["address"]
    cells = " | ".join(str(counts[action]) for action, _ in _COLUMNS)
    summary = ", ".join(
        f"{counts[action]} {'to ' if action != 'unmanaged' else ''}{heading}"
        for action, heading in _COLUMNS[:-1]
        if counts[action]
    )
    return _Section(
        row=f"| `{address}` | {cells} |",
        details=_details(address, summary, _diff_lines(dataview, with_fields=True)),
        details_without_fields=_details(address, summary, _diff_lines(dataview, with_fields=False)),
    )


def _counts(dataview: Mapping[str, Any]) -> dict[str, int]:
    counts = dict.fromkeys((action for action, _ in _COLUMNS), 0)
    for change in dataview["changes"]:
        counts[change["action"]] += 1
    return counts


def _details(address: str, summary: str, lines: Iterable[str]) -> str:
    body = "\n".join(lines)
    fence = _fence(body)
    return (
        f"<details><summary><code>{address}</code>: {summary}</summary>\n\n"
        f"{fence}diff\n{body}\n{fence}\n\n</details>"
    )


def _fence(body: str) -> str:
    """A backtick fence longer than any backtick run inside, so keys cannot break out."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def _diff_lines(dataview: Mapping[str, Any], *, with_fields: bool) -> Iterator[str]:
    """Lines starting with the symbol, so GitHub colours ``+`` green and ``-`` red."""
    for change in dataview["changes"]:
        if change["action"] == "no-op":
            continue
        yield f"{change['symbol']} {change_title(change)}"
        if with_fields and is_change(change):
            yield from _field_diff_lines(change["fields"])
        if change["refused"] is not None:
            yield f"! refused: {change['refused']}"
    unchanged = sum(1 for c in dataview["changes"] if c["action"] == "no-op")
    if unchanged:
        yield f"# ({unchanged} unchanged export{'s' if unchanged != 1 else ''} hidden)"


def _field_diff_lines(fields: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    """A changed field as a ``-`` old line and a ``+`` new line, indented under its export."""
    for field in fields:
        symbol, old, new = field_parts(field)
        if symbol in ("-", "~"):
            yield f"-     {field['path']}: {old}"
        if symbol in ("+", "~"):
            yield f"+     {field['path']}: {new}"
