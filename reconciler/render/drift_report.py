"""The drift report: the plan seen from ``exportctl drift``, for alerts.

Built from the plan's JSON form (``schemas/drift-report.schema.json``), it
sorts every entry into why live differs: changed by hand, not yet applied,
missing, or unmanaged. Its text and Markdown forms lead with one line that
fits in an alert's title.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from reconciler.render._lines import change_title, field_line
from reconciler.render.style import bold, paint

__all__ = [
    "DRIFT_FORMAT_VERSION",
    "drift_headline",
    "drift_to_json",
    "render_drift_markdown",
    "render_drift_text",
]

DRIFT_FORMAT_VERSION = "1.0"

# Drift kinds in report order, with their words for people.
_KINDS: tuple[tuple[str, str], ...] = (
    ("changed_by_hand", "changed by hand"),
    ("not_yet_applied", "not yet applied"),
    ("missing", "missing"),
    ("unmanaged", "unmanaged"),
)
# For an entry the planner left without a drift kind, the kind its action implies.
_KIND_OF_ACTION = {
    "add": "missing",
    "edit": "not_yet_applied",
    "replace": "not_yet_applied",
    "delete": "not_yet_applied",
    "adopt": "not_yet_applied",
    "unmanaged": "unmanaged",
}
# Names listed in one breath before "and N more".
_NAMED = 5


def drift_to_json(plan_json: Mapping[str, Any]) -> dict[str, Any]:
    """Sort the plan's entries by drift kind; no-ops are in sync and left out."""
    dataviews = [_dataview_drift(dv) for dv in plan_json["dataviews"]]
    counts = {kind: sum(len(dv[kind]) for dv in dataviews) for kind, _ in _KINDS}
    return {
        "format_version": DRIFT_FORMAT_VERSION,
        "in_sync": all(dv["in_sync"] for dv in dataviews),
        "counts": {
            "dataviews": len(dataviews),
            "dataviews_drifted": sum(1 for dv in dataviews if not dv["in_sync"]),
            **counts,
        },
        "dataviews": dataviews,
    }


def _dataview_drift(dataview: Mapping[str, Any]) -> dict[str, Any]:
    kinds: dict[str, list[dict[str, Any]]] = {kind: [] for kind, _ in _KINDS}
    for change in dataview["changes"]:
        kind = change["drift"] or _KIND_OF_ACTION.get(change["action"])
        if kind is not None:
            kinds[kind].append(_entry(change, with_fields=kind != "missing"))
    in_sync = not any(kinds.values())
    return {"dataview": dict(dataview["dataview"]), "in_sync": in_sync, **kinds}


def _entry(change: Mapping[str, Any], *, with_fields: bool) -> dict[str, Any]:
    """One drifted export. A missing export has no fields that *differ*: the plan's
    list of what apply would write is detail for ``exportctl plan``, noise in an alert."""
    names = ("key", "handler_type", "export_id", "action", "reason")
    return {
        **{name: change[name] for name in names},
        "fields": change["fields"] if with_fields else [],
    }


def drift_headline(report: Mapping[str, Any]) -> str:
    """The one line an alert shows: in sync, or where and what kind of drift."""
    counts = report["counts"]
    if report["in_sync"]:
        total = counts["dataviews"]
        verb = "dataview matches" if total == 1 else "dataviews match"
        return f"In sync: {total} {verb} the manifest."
    drifted = [dv["dataview"]["address"] for dv in report["dataviews"] if not dv["in_sync"]]
    noun = "dataview" if len(drifted) == 1 else "dataviews"
    kinds = ", ".join(f"{counts[kind]} {words}" for kind, words in _KINDS if counts[kind])
    return f"Drift detected in {len(drifted)} {noun}: {_first(drifted)} ({kinds})."


def render_drift_text(report: Mapping[str, Any], *, color: bool = False) -> str:
    """The headline, then per drifted dataview each kind with its exports and fields.

    Coloured like the plan's text when ``color``: headings bold, field symbols
    in their action's colour, and a drift headline bold red like a plan warning.
    """
    headline = drift_headline(report)
    lines = [bold(headline, color=color, fg=None if report["in_sync"] else "red")]
    for dataview in report["dataviews"]:
        if not dataview["in_sync"]:
            lines += ["", bold(f"dataview {dataview['dataview']['address']}", color=color)]
            lines.extend(_text_kinds(dataview, color=color))
    if not report["in_sync"]:
        lines += ["", "Run `exportctl plan` to see what apply would do about it."]
    return "\n".join(lines) + "\n"


def _text_kinds(dataview: Mapping[str, Any], *, color: bool) -> Iterator[str]:
    for kind, words in _KINDS:
        if dataview[kind]:
            yield "  " + bold(f"{words}:", color=color)
        for entry in dataview[kind]:
            yield f"    {change_title(entry)}"
            for field in entry["fields"]:
                symbol, text = field_line(field)
                yield f"        {paint(symbol, symbol, color=color)} {text}"


def render_drift_markdown(report: Mapping[str, Any]) -> str:
    """The headline, then one bullet per drifted dataview naming the keys concerned."""
    lines = [drift_headline(report)]
    bullets = [_bullet(dv) for dv in report["dataviews"] if not dv["in_sync"]]
    if bullets:
        lines += ["", *bullets]
    return "\n".join(lines) + "\n"


def _bullet(dataview: Mapping[str, Any]) -> str:
    parts = [
        f"{len(dataview[kind])} {words} ({_keys(dataview[kind])})"
        for kind, words in _KINDS
        if dataview[kind]
    ]
    return f"- `{dataview['dataview']['address']}`: {'; '.join(parts)}"


def _keys(entries: Sequence[Mapping[str, Any]]) -> str:
    return _first([f"`{entry['key']}`" for entry in entries])


def _first(names: Sequence[str]) -> str:
    """The first few names, then how many more: an alert line must stay short."""
    shown = ", ".join(names[:_NAMED])
    more = len(names) - _NAMED
    return f"{shown} and {more} more" if more > 0 else shown
