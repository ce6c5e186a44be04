"""The summary a person reads at the end of ``exportctl apply``.

Rendered from the result's JSON form (``reconciler.apply.result_json``), so the
text and ``--format json`` cannot disagree (the same habit as the plan's
renderers).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.apply.result import Failure, Outcome
from reconciler.model import headings
from reconciler.render._lines import preflight_line, preflight_verdicts

__all__ = ["render_result_text"]

_OUTCOMES = tuple(o.value for o in Outcome)
APPLY_AGAIN = "Run exportctl apply again to finish: it plans only what is left."


def render_result_text(data: Mapping[str, Any], *, interrupted: bool = False) -> str:
    """The closing summary: failed dry runs or per-scope counts, then failures.

    ``interrupted``: a Ctrl-C or SIGTERM stopped the apply, so its heading
    must not read "complete" over the changes it skipped.
    """
    if data["preflight_failures"]:
        return "\n".join(_preflight_lines(data["preflight_failures"])) + "\n"
    return "\n".join(_summary_lines(data, interrupted=interrupted)) + "\n"


def _preflight_lines(failures: list[Mapping[str, Any]]) -> Iterator[str]:
    yield (
        f"Preflight failed: the server {preflight_verdicts(failures)} sent with "
        "validate_only. Nothing was changed."
    )
    for f in failures:
        yield f"  {preflight_line(f)}"
    yield _next_step(failures, _PREFLIGHT_ADVICE)


def _summary_lines(data: Mapping[str, Any], *, interrupted: bool) -> Iterator[str]:
    yield f"{_heading(data, interrupted=interrupted)}: {_counts(data['summary'])}."
    scopes = list(zip(data["scopes"], _titles(data["scopes"]), strict=True))
    # A scope with nothing to do (only no-ops) would be noise in a 500-dataview log.
    for scope, title in scopes:
        if any(scope["summary"].values()):
            yield f"  {title}: {_counts(scope['summary'])}"
    failed = [
        (title, a)
        for scope, title in scopes
        for a in scope["actions"]
        if a["outcome"] == Outcome.FAILED.value
    ]
    if failed:
        yield "Failed:"
        for title, a in failed:
            yield f"  {title}: {a['symbol']} {a['key']} ({a['type']}) {a['message']}"
        yield _next_step([a for _, a in failed], _EXECUTION_ADVICE)


def _heading(data: Mapping[str, Any], *, interrupted: bool) -> str:
    if interrupted:
        return "Apply interrupted" if data["ok"] else "Apply interrupted, with failures"
    return "Apply complete" if data["ok"] else "Apply finished with failures"


@dataclass(frozen=True)
class _Advice:
    """The closing line after failures, by how many of them the server refused.

    ``fix_all`` may use ``{what}`` ("this change"/"these changes"); ``fix_some``
    uses ``{refused}`` ("2 changes") and ``{keys}``.
    """

    retry: str  # nothing refused: a rerun may pass
    fix_all: str  # everything refused: a rerun alone fails the same way
    fix_some: str  # a mix: fix the refused, rerun for the rest


_EXECUTION_ADVICE = _Advice(
    retry=APPLY_AGAIN,
    fix_all=(
        "The server refused {what}, so rerunning alone will not help: fix the manifest "
        "(or the platform) first, then run exportctl apply again."
    ),
    fix_some=(
        "The server refused {refused} ({keys}), so rerunning alone will not help them: fix "
        "the manifest (or the platform) first. The others may pass when you run exportctl "
        "apply again: it plans only what is left."
    ),
)
# Nothing has run yet, so a rerun starts over: no "to finish" here.
_PREFLIGHT_ADVICE = _Advice(
    retry="Nothing was refused, so there is nothing to fix: run exportctl apply again later.",
    fix_all="Fix the manifest (or the platform) and run exportctl apply again.",
    fix_some=(
        "The server refused {refused} ({keys}): fix the manifest (or the platform) first. "
        "The others got no verdict and may pass when you run exportctl apply again."
    ),
)


def _next_step(failed: list[Mapping[str, Any]], advice: _Advice) -> str:
    """Rerun only what a rerun can cure: a refused change fails the same way again."""
    refused = _refused(failed)
    if not refused:
        return advice.retry
    if len(refused) == len(failed):
        return advice.fix_all.format(what="this change" if len(refused) == 1 else "these changes")
    return advice.fix_some.format(refused=_plural(len(refused), "change"), keys=", ".join(refused))


def _refused(failed: list[Mapping[str, Any]]) -> list[str]:
    """The keys of the failures the server refused (``Failure.of``'s verdict, as JSON)."""
    return [f["key"] for f in failed if f["failure"] == Failure.REFUSED.value]


def _titles(scopes: list[Mapping[str, Any]]) -> list[str]:
    """``dataview 1/1/123/456`` per scope of the result; ``data-tools user sandbox
    (templates)`` where one user's templates and snapshots would read alike."""
    return headings([(s["noun"], s["address"], s["kind"]) for s in scopes])


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _counts(summary: Mapping[str, int]) -> str:
    return ", ".join(f"{summary[name]} {name}" for name in _OUTCOMES)
