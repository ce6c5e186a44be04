"""The plan as a pull-request comment, rendered from its JSON form.

A hidden marker lets CI find its earlier comment and edit it in place; a
summary and two tables come first so a reviewer sees the size of the change
at a glance; per-scope details are folded, in ``diff`` fences so GitHub
colours the lines. GitHub refuses comments over 65,536 characters, so a large
plan is summarised step by step (field diffs first, then whole scopes) and
the comment says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.render._lines import (
    SNAPSHOT_ACTIONS,
    SUMMARY_ACTIONS,
    change_title,
    common_word,
    field_parts,
    hidden_line,
    is_change,
    no_changes,
    preflight_heading,
    preflight_line,
    scope_notes,
    summary_line,
)

__all__ = ["GITHUB_COMMENT_LIMIT", "MARKER", "details_block", "field_diff_lines", "render_markdown"]

MARKER = "<!-- exportctl-plan -->"
GITHUB_COMMENT_LIMIT = 65536

# Columns of both tables: (JSON action, heading); snapshot columns join them
# only in a plan with snapshots, so a plan of resources alone reads as before.
_Columns = tuple[tuple[str, str], ...]
_COLUMNS: _Columns = (*SUMMARY_ACTIONS, ("unmanaged", "unmanaged"), ("no-op", "unchanged"))
_SNAPSHOT_COLUMNS: _Columns = (*SNAPSHOT_ACTIONS, ("fresh", "fresh"))
_ACTS = frozenset(action for action, _ in (*SUMMARY_ACTIONS, *SNAPSHOT_ACTIONS))
_UNCHANGED = ("no-op", "fresh")  # counted in the tables, not listed
# The longest note _note() can write, so the budget leaves room for it.
_NOTE_RESERVE = 300


@dataclass(frozen=True)
class _Section:
    """One scope worth showing: its table row and its folded details."""

    row: str
    details: str
    details_without_fields: str


def render_markdown(plan_json: Mapping[str, Any], *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The comment, at most ``limit`` characters long."""
    columns = _columns(plan_json)
    sections = [
        _section(sp, note, columns)
        for sp, note in zip(plan_json["scopes"], scope_notes(plan_json), strict=True)
        if _worth_showing(sp)
    ]
    hidden = len(plan_json["scopes"]) - len(sections)
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
    note = _note(
        summarised=len(sections) - len(blocks),
        untabled=len(sections) - len(rows),
        noun=_scope_word(plan_json),
    )
    return _assemble(plan_json, rows, blocks, hidden, note=note)


def _note(*, summarised: int, untabled: int, noun: str) -> str:
    parts = ["field changes left out"]
    if summarised:
        parts.append(f"{summarised} {noun}{'s' if summarised != 1 else ''} summarised")
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
    parts = [MARKER, "## exportctl plan", "", *_summary(plan_json), *_preflight(plan_json)]
    if note:
        parts += ["", note]
    columns = _columns(plan_json)
    parts += ["", *_action_table(plan_json["summary"]["counts"], columns)]
    if sections:
        head = _scope_table_head(common_word(plan_json, "noun", "scope"), columns)
        parts += ["", *head, *(s.row for s in sections)]
    if hidden:
        noun = _scope_word(plan_json)
        noun = f"{noun} has" if hidden == 1 else f"{noun}s have"
        other = " other" if sections else ""
        parts += ["", f"{hidden}{other} {noun} nothing to change."]
    for block in blocks:
        parts += ["", block]
    return "\n".join(parts) + "\n"


def _summary(plan_json: Mapping[str, Any]) -> Iterator[str]:
    summary = plan_json["summary"]
    if not summary["has_changes"]:
        yield no_changes(plan_json)
        return
    yield f"**{summary_line(summary['counts'])}**"
    refused = sum(
        1 for sp in plan_json["scopes"] for c in sp["changes"] if c["refused"] is not None
    )
    if refused:
        noun = "change" if refused == 1 else "changes"
        yield ""
        yield f"> **Warning:** apply will refuse {refused} {noun} marked `! refused`."


def _preflight(plan_json: Mapping[str, Any]) -> Iterator[str]:
    """``plan --preflight``'s verdict; the refusals in a fence, as the server worded them."""
    preflight = plan_json.get("preflight")
    if preflight is None:
        return
    yield ""
    if not preflight["failures"]:
        yield preflight_heading(preflight)
        return
    yield f"> **{preflight_heading(preflight)}**"
    body = "\n".join(preflight_line(f) for f in preflight["failures"])
    fence = _fence(body)
    yield from ("", f"{fence}text", body, fence)


def _columns(plan_json: Mapping[str, Any]) -> _Columns:
    counts = plan_json["summary"]["counts"]
    with_snapshots = any(counts.get(action) for action, _ in _SNAPSHOT_COLUMNS)
    return (*_COLUMNS, *_SNAPSHOT_COLUMNS) if with_snapshots else _COLUMNS


def _action_table(counts: Mapping[str, int], columns: _Columns) -> list[str]:
    return [
        "| Action | Count |",
        "| --- | ---: |",
        *(f"| {heading} | {counts[action]} |" for action, heading in columns),
    ]


def _scope_table_head(noun: str, columns: _Columns) -> list[str]:
    headings = " | ".join(heading for _, heading in columns)
    return [f"| {noun.capitalize()} | {headings} |", "| --- |" + " ---: |" * len(columns)]


def _scope_word(plan_json: Mapping[str, Any]) -> str:
    """What a count of the plan's scopes calls them: their one noun, but "scope" when
    a note tells two apart, or one data-tools user would be counted as two users."""
    if any(scope_notes(plan_json)):
        return "scope"
    return common_word(plan_json, "noun", "scope")


def _worth_showing(scope_plan: Mapping[str, Any]) -> bool:
    return any(c["action"] not in _UNCHANGED for c in scope_plan["changes"])


def _section(scope_plan: Mapping[str, Any], note: str, columns: _Columns) -> _Section:
    counts = _counts(scope_plan, columns)
    address = str(scope_plan["scope"]["address"])
    cells = " | ".join(str(counts[action]) for action, _ in columns)
    summary = ", ".join(
        f"{counts[action]} {'to ' if action in _ACTS else ''}{heading}"
        for action, heading in columns
        if counts[action] and action not in _UNCHANGED
    )
    # A reviewer must not have to unfold a scope to see that something is deleted.
    destroys = bool(counts.get("delete") or counts.get("replace"))
    return _Section(
        row=f"| `{address}`{note} | {cells} |",
        details=details_block(
            address, note, summary, _diff_lines(scope_plan, with_fields=True), opened=destroys
        ),
        details_without_fields=details_block(
            address, note, summary, _diff_lines(scope_plan, with_fields=False), opened=destroys
        ),
    )


def _counts(scope_plan: Mapping[str, Any], columns: _Columns) -> dict[str, int]:
    counts = dict.fromkeys((action for action, _ in columns), 0)
    for change in scope_plan["changes"]:
        counts[change["action"]] += 1
    return counts


def details_block(
    address: str, note: str, summary: str, lines: Iterable[str], *, opened: bool
) -> str:
    """A folded ``<details>`` of diff lines under a one-line summary (the plan's and
    the drift report's)."""
    body = "\n".join(lines)
    fence = _fence(body)
    tag = "<details open>" if opened else "<details>"
    return (
        f"{tag}<summary><code>{address}</code>{note}: {summary}</summary>\n\n"
        f"{fence}diff\n{body}\n{fence}\n\n</details>"
    )


def _fence(body: str) -> str:
    """A backtick fence longer than any backtick run inside, so keys cannot break out."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def _diff_lines(scope_plan: Mapping[str, Any], *, with_fields: bool) -> Iterator[str]:
    """Lines starting with the symbol, so GitHub colours ``+`` green and ``-`` red."""
    noun = scope_plan["scope"]["resource_noun"]
    for change in scope_plan["changes"]:
        if change["action"] in _UNCHANGED:
            continue
        yield f"{change['symbol']} {change_title(change, noun)}"
        if with_fields and is_change(change):
            yield from field_diff_lines(change["fields"])
        if change["refused"] is not None:
            yield f"! refused: {change['refused']}"
    hidden = hidden_line(scope_plan)
    if hidden:
        yield f"# {hidden}"


def field_diff_lines(fields: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    """A changed field as a ``-`` old line and a ``+`` new line, indented under its export."""
    for field in fields:
        symbol, old, new = field_parts(field)
        if symbol in ("-", "~"):
            yield f"-     {field['path']}: {old}"
        if symbol in ("+", "~"):
            yield f"+     {field['path']}: {new}"
