"""The drift report as text and Markdown, for alerts.

Rendered from the report's JSON form (``reconciler.drift_json``). Both lead
with one line that fits in an alert's title.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from reconciler.drift_json import DRIFT_KINDS, INFORMATION
from reconciler.plan import Action
from reconciler.render._lines import (
    change_title,
    common_word,
    field_line,
    scope_notes,
    scope_titles,
)
from reconciler.render.markdown import GITHUB_COMMENT_LIMIT, details_block, field_diff_lines
from reconciler.render.style import bold, paint

__all__ = ["drift_headline", "render_drift_markdown", "render_drift_text"]

# Names listed in one breath before "and N more".
_NAMED = 5


def drift_headline(report: Mapping[str, Any]) -> str:
    """The one line an alert shows: in sync, or where and what kind of drift."""
    counts = report["counts"]
    noun = common_word(report, "noun", "scope")
    if report["in_sync"]:
        total = len(_named(report["scopes"]))
        verb = f"{noun} matches" if total == 1 else f"{noun}s match"
        return f"In sync: {total} {verb} the manifest."
    drifted = _named([s for s in report["scopes"] if not s["in_sync"]])
    noun = noun if len(drifted) == 1 else f"{noun}s"
    kinds = ", ".join(f"{counts[kind]} {words}" for kind, words in DRIFT_KINDS if counts[kind])
    return f"Drift detected in {len(drifted)} {noun}: {_first(drifted)} ({kinds})."


def render_drift_text(report: Mapping[str, Any], *, color: bool = False) -> str:
    """The headline, then per drifted scope each kind with its entries and fields.

    Coloured like the plan's text when ``color``: headings bold, field symbols
    in their action's colour, and a drift headline bold red like a plan warning.
    """
    headline = drift_headline(report)
    lines = [bold(headline, color=color, fg=None if report["in_sync"] else "red")]
    for scope, title in zip(report["scopes"], scope_titles(report), strict=True):
        if not scope["in_sync"]:
            lines += ["", bold(title, color=color)]
            lines.extend(_text_kinds(scope, color=color))
    lines.extend(_text_information(report))
    if not report["in_sync"]:
        lines += ["", _next_step(report)]
    return "\n".join(lines) + "\n"


def _next_step(report: Mapping[str, Any]) -> str:
    """What to do: a plan shows what apply would do, except for unmanaged entries
    alone, which apply leaves where they are (that plan would say "No changes")."""
    counts = report["counts"]
    if any(counts[kind] for kind, _ in DRIFT_KINDS if kind != "unmanaged"):
        return "Run `exportctl plan` to see what apply would do about it."
    noun = common_word(report, "noun", "scope")
    resource = common_word(report, "resource_noun", "resource")
    return (
        f"Unmanaged {resource}s are not exportctl's, and apply leaves them alone: add an "
        f"entry writing to one's destination to adopt it, set `prune: all` on its {noun} "
        "to delete them, or `unmanaged: information` to stop reporting them as drift."
    )


def _information_line(report: Mapping[str, Any]) -> str | None:
    """``Not drift: 2 unmanaged exports ...`` for scopes that say ``unmanaged: information``."""
    count = report["counts"].get(INFORMATION, 0)
    if not count:
        return None
    noun = common_word(report, "resource_noun", "resource")
    return (
        f"Not drift: {count} unmanaged {noun}{'s' if count != 1 else ''} where the manifest "
        "says `unmanaged: information`."
    )


def _text_information(report: Mapping[str, Any]) -> Iterator[str]:
    line = _information_line(report)
    if line is None:
        return
    yield ""
    yield line
    for scope in report["scopes"]:
        for entry in scope.get(INFORMATION, []):
            address = scope["scope"]["address"]
            yield f"  ? {address} {change_title(entry, scope['scope']['resource_noun'])}"


def _text_kinds(scope: Mapping[str, Any], *, color: bool) -> Iterator[str]:
    noun = scope["scope"]["resource_noun"]
    for kind, words in DRIFT_KINDS:
        if scope[kind]:
            yield "  " + bold(f"{words}:", color=color)
        for entry in scope[kind]:
            yield f"    {change_title(entry, noun)}"
            for field in entry["fields"]:
                symbol, text = field_line(field)
                yield f"        {paint(symbol, symbol, color=color)} {text}"


def render_drift_markdown(report: Mapping[str, Any]) -> str:
    """The headline, one bullet per drifted scope naming the keys concerned, then each
    drifted scope's entries and changed fields folded, as the plan's Markdown does.

    It is an issue's or a chat message's body: when the field diffs would not
    fit in one (``GITHUB_COMMENT_LIMIT``), the entries are shown without
    them, and failing that only the bullets.
    """
    drifted = [
        (scope, note)
        for scope, note in zip(report["scopes"], scope_notes(report), strict=True)
        if not scope["in_sync"]
    ]
    head = [drift_headline(report)]
    if drifted:
        head += ["", *(_bullet(scope, note) for scope, note in drifted)]
    information = _information_line(report)
    tail = [] if information is None else ["", information]
    for with_fields in (True, False):
        blocks = [_details(scope, note, with_fields=with_fields) for scope, note in drifted]
        text = "\n".join([*head, *(line for b in blocks for line in ("", b)), *tail]) + "\n"
        if len(text) <= GITHUB_COMMENT_LIMIT:
            return text
    return "\n".join([*head, *tail]) + "\n"


def _details(scope: Mapping[str, Any], note: str, *, with_fields: bool) -> str:
    noun = scope["scope"]["resource_noun"]
    lines: list[str] = []
    for kind, words in DRIFT_KINDS:
        if scope[kind]:
            lines.append(f"# {words}")
        for entry in scope[kind]:
            lines.append(f"{Action(entry['action']).symbol} {change_title(entry, noun)}")
            if with_fields:
                lines.extend(field_diff_lines(entry["fields"]))
    summary = "; ".join(f"{len(scope[kind])} {words}" for kind, words in DRIFT_KINDS if scope[kind])
    return details_block(scope["scope"]["address"], note, summary, lines, opened=False)


def _bullet(scope: Mapping[str, Any], note: str) -> str:
    parts = [
        f"{len(scope[kind])} {words} ({_keys(scope[kind])})"
        for kind, words in DRIFT_KINDS
        if scope[kind]
    ]
    return f"- `{scope['scope']['address']}`{note}: {'; '.join(parts)}"


def _named(scopes: Sequence[Mapping[str, Any]]) -> list[str]:
    """The addresses a headline counts and names, each once: one data-tools user's
    templates and snapshots are two scopes, but one user to the reader."""
    named = {(s["scope"]["noun"], s["scope"]["address"]): s["scope"]["address"] for s in scopes}
    return list(named.values())


def _keys(entries: Sequence[Mapping[str, Any]]) -> str:
    return _first([f"`{entry['key']}`" for entry in entries])


def _first(names: Sequence[str]) -> str:
    """The first few names, then how many more: an alert line must stay short."""
    shown = ", ".join(names[:_NAMED])
    more = len(names) - _NAMED
    return f"{shown} and {more} more" if more > 0 else shown
