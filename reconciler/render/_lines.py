"""Wording shared by the text and Markdown views, read from the plan's JSON form.

Kept in one place so a change, a field diff or the summary reads the same in a
terminal and in a pull-request comment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.model import headings, kind_notes
from reconciler.plan import SENSITIVE

__all__ = [
    "SUMMARY_ACTIONS",
    "change_title",
    "common_word",
    "field_line",
    "field_parts",
    "format_value",
    "hidden_line",
    "is_change",
    "no_changes",
    "preflight_heading",
    "preflight_line",
    "preflight_verdicts",
    "scope_notes",
    "scope_titles",
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
# Snapshot actions, listed only when a plan has any.
SNAPSHOT_ACTIONS: tuple[tuple[str, str], ...] = (("run", "run"), ("wait", "wait for"))

_RECORDS = ("unmanaged", "no-op", "fresh")  # entries apply leaves alone


def is_change(change: Mapping[str, Any]) -> bool:
    """Whether apply acts on it: unmanaged, no-op and fresh entries are only records."""
    return change["action"] not in _RECORDS


def summary_line(counts: Mapping[str, int]) -> str:
    listed = [*SUMMARY_ACTIONS, *((a, v) for a, v in SNAPSHOT_ACTIONS if counts.get(a))]
    parts = ", ".join(f"{counts[action]} to {verb}" for action, verb in listed)
    return f"Plan: {parts}."


def common_word(document: Mapping[str, Any], field: str, general: str) -> str:
    """The one ``noun``/``resource_noun`` of a plan's (or drift report's) scopes, else
    ``general``: one provider's documents keep its words ("dataview", "export")."""
    words = {entry["scope"][field] for entry in document["scopes"]}
    return words.pop() if len(words) == 1 else general


def no_changes(plan_json: Mapping[str, Any]) -> str:
    """``No changes. Live exports match the manifest.`` in the plan's own words."""
    noun = common_word(plan_json, "resource_noun", "resource")
    return f"No changes. Live {noun}s match the manifest."


def _named(document: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return [(e["scope"]["noun"], e["scope"]["address"], e["kind"]) for e in document["scopes"]]


def scope_notes(document: Mapping[str, Any]) -> list[str]:
    """Per scope of a plan (or drift report), what tells it apart from a scope with
    the same title: `` (snapshots)`` for one data-tools user's snapshots, else ``""``."""
    return kind_notes(_named(document))


def scope_titles(document: Mapping[str, Any]) -> list[str]:
    """How each scope of a plan (or drift report) is headed: ``dataview 1/1/123/456``,
    ``data-tools user sandbox (templates)`` beside the same user's snapshots."""
    return headings(_named(document))


def hidden_line(scope_plan: Mapping[str, Any]) -> str | None:
    """``(2 unchanged exports hidden)`` for a scope's no-ops and fresh snapshots, if any."""
    unchanged = sum(1 for c in scope_plan["changes"] if c["action"] in ("no-op", "fresh"))
    if not unchanged:
        return None
    noun = scope_plan["scope"]["resource_noun"]
    return f"({unchanged} unchanged {noun}{'s' if unchanged != 1 else ''} hidden)"


def change_title(change: Mapping[str, Any], resource_noun: str) -> str:
    """``key (type, export 12): reason`` with no symbol."""
    where = change["type"]
    if change["id"] is not None:
        where += f", {resource_noun} {change['id']}"
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


def preflight_verdicts(failures: list[Mapping[str, Any]]) -> str:
    """``refused 2 changes and gave no verdict on 1 change``: what the server said."""
    refused = sum(1 for f in failures if f["failure"] == "refused")
    verdicts = [f"refused {_plural(refused, 'change')}"] if refused else []
    if refused < len(failures):
        verdicts.append(f"gave no verdict on {_plural(len(failures) - refused, 'change')}")
    return " and ".join(verdicts)


def preflight_line(failure: Mapping[str, Any]) -> str:
    """``dataview 1/1/123/456: warehouse (400): the server's detail``."""
    status = f" ({failure['status_code']})" if failure["status_code"] is not None else ""
    return f"{failure['noun']} {failure['address']}: {failure['key']}{status}: {failure['detail']}"


def preflight_heading(preflight: Mapping[str, Any]) -> str:
    """The verdict of ``plan --preflight``, above its refusals (if any)."""
    failures = preflight["failures"]
    if not preflight["sent"]:
        return "Preflight: no add or edit to send as a dry run."
    if not failures:
        accepted = _plural(preflight["sent"], "change")
        return f"Preflight passed: the server accepted {accepted} sent with validate_only."
    return (
        f"Preflight failed: the server {preflight_verdicts(failures)} sent with "
        "validate_only, so apply would stop before changing anything:"
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
