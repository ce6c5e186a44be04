"""The plan as terminal text, Terraform-like, rendered from its JSON form.

One block per scope with changes, one line per change (symbol, key, type,
id, reason), indented field diffs and refusals; then the resources exportctl
leaves alone, and a summary line. No-ops and fresh snapshots are only counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.render._lines import (
    change_title,
    field_line,
    hidden_line,
    is_change,
    no_changes,
    preflight_heading,
    preflight_line,
    scope_titles,
    summary_line,
)
from reconciler.render.style import bold, paint

__all__ = ["render_text"]

_SYMBOL_WIDTH = 3  # "-/+" is the widest symbol; others are right-aligned to it.


def render_text(plan_json: Mapping[str, Any], *, color: bool) -> str:
    """The whole plan as lines ending in a newline; ANSI colour only when ``color``."""
    lines: list[str] = []
    for scope_plan, title in zip(plan_json["scopes"], scope_titles(plan_json), strict=True):
        lines.extend(_scope_lines(scope_plan, title, color=color))
    lines.extend(_unmanaged_lines(plan_json, color=color))
    lines.extend(_summary_lines(plan_json, color=color))
    lines.extend(_preflight_lines(plan_json, color=color))
    return "\n".join(lines) + "\n"


def _scope_lines(scope_plan: Mapping[str, Any], title: str, *, color: bool) -> Iterator[str]:
    changes = [c for c in scope_plan["changes"] if is_change(c)]
    if not changes:
        return
    yield bold(title, color=color)
    noun = scope_plan["scope"]["resource_noun"]
    for change in changes:
        yield from _change_lines(change, noun, color=color)
    hidden = hidden_line(scope_plan)
    if hidden:
        yield f"      # {hidden}"
    yield ""


def _change_lines(change: Mapping[str, Any], noun: str, *, color: bool) -> Iterator[str]:
    symbol = change["symbol"]
    title = change_title(change, noun)
    yield f"  {paint(symbol.rjust(_SYMBOL_WIDTH), symbol, color=color)} {title}"
    for field in change["fields"]:
        field_symbol, text = field_line(field)
        yield f"        {paint(field_symbol, field_symbol, color=color)} {text}"
    if change["refused"] is not None:
        yield "        " + bold(f"! refused: {change['refused']}", color=color, fg="red")


def _unmanaged_lines(plan_json: Mapping[str, Any], *, color: bool) -> Iterator[str]:
    entries = [
        (scope_plan["scope"], change)
        for scope_plan in plan_json["scopes"]
        for change in scope_plan["changes"]
        if change["action"] == "unmanaged"
    ]
    if not entries:
        return
    title = "Not managed by exportctl (left alone; `prune: all` would delete them):"
    yield bold(title, color=color)
    for scope, change in entries:
        yield f"  ? {scope['address']} {change_title(change, scope['resource_noun'])}"
    yield ""


def _summary_lines(plan_json: Mapping[str, Any], *, color: bool) -> Iterator[str]:
    summary = plan_json["summary"]
    if not summary["has_changes"]:
        yield no_changes(plan_json)
        return
    yield bold(summary_line(summary["counts"]), color=color)
    refused = sum(
        1 for sp in plan_json["scopes"] for c in sp["changes"] if c["refused"] is not None
    )
    if refused:
        noun = "change" if refused == 1 else "changes"
        warning = f'Warning: apply will refuse {refused} {noun} marked "! refused".'
        yield bold(warning, color=color, fg="red")


def _preflight_lines(plan_json: Mapping[str, Any], *, color: bool) -> Iterator[str]:
    """``plan --preflight``'s verdict, after the summary; absent without the flag."""
    preflight = plan_json.get("preflight")
    if preflight is None:
        return
    failed = bool(preflight["failures"])
    yield bold(preflight_heading(preflight), color=color, fg="red" if failed else None)
    for failure in preflight["failures"]:
        yield f"  ! {preflight_line(failure)}"
