"""``ApplyResult`` as JSON (``--format json``) and as the text summary a person reads.

The text is rendered from the JSON form, so the two cannot disagree (the same
habit as the plan's renderers).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.apply.result import ActionResult, ApplyResult, Failure, Outcome, PreflightFailure

__all__ = ["RESULT_FORMAT_VERSION", "render_result_text", "result_to_json"]

# 1.1: "error" for runs that stop early; 1.2: each action's "failure" kind;
# 1.3: each preflight failure's "failure" kind
RESULT_FORMAT_VERSION = "1.3"
_OUTCOMES = tuple(o.value for o in Outcome)
APPLY_AGAIN = "Run exportctl apply again to finish: it plans only what is left."


def result_to_json(result: ApplyResult, *, error: str | None = None) -> dict[str, Any]:
    """The result as plain JSON (``schemas/apply-result.schema.json``).

    ``error`` is the message of a run that stopped before or outside the
    changes (a refusal, an interruption); such a run is never ``ok``.
    """
    counts = result.counts()
    return {
        "format_version": RESULT_FORMAT_VERSION,
        "ok": result.ok and error is None,
        **({"error": error} if error is not None else {}),
        "summary": {o.value: counts.get(o, 0) for o in Outcome},
        "preflight_failures": [_failure_json(f) for f in result.preflight_failures],
        "dataviews": [
            {
                "dataview": str(dv.ref),
                "summary": {o.value: dv.counts().get(o, 0) for o in Outcome},
                "actions": [_action_json(a) for a in dv.actions],
            }
            for dv in result.dataviews
        ],
    }


def _failure_json(failure: PreflightFailure) -> dict[str, Any]:
    return {
        "dataview": str(failure.ref),
        "key": failure.key,
        "action": failure.action.value,
        "status_code": failure.status_code,
        "detail": failure.detail,
        "failure": failure.failure.value,
    }


def _action_json(action: ActionResult) -> dict[str, Any]:
    return {
        "key": action.key,
        "action": action.action.value,
        "symbol": action.action.symbol,
        "handler_type": action.handler_type,
        "outcome": action.outcome.value,
        "message": action.message,
        "export_id": action.export_id,
        "job_id": action.job_id,
        "failure": action.failure.value if action.failure else None,
    }


def render_result_text(data: Mapping[str, Any]) -> str:
    """The closing summary: failed dry runs or per-dataview counts, then failures."""
    if data["preflight_failures"]:
        return "\n".join(_preflight_lines(data["preflight_failures"])) + "\n"
    return "\n".join(_summary_lines(data)) + "\n"


def _preflight_lines(failures: list[Mapping[str, Any]]) -> Iterator[str]:
    refused = len(_refused(failures))
    verdicts = [f"refused {_plural(refused, 'change')}"] if refused else []
    if refused < len(failures):
        verdicts.append(f"gave no verdict on {_plural(len(failures) - refused, 'change')}")
    yield (
        f"Preflight failed: the server {' and '.join(verdicts)} sent with validate_only. "
        "Nothing was changed."
    )
    for f in failures:
        status = f" ({f['status_code']})" if f["status_code"] is not None else ""
        yield f"  dataview {f['dataview']}: {f['key']}{status}: {f['detail']}"
    yield _next_step(failures, _PREFLIGHT_ADVICE)


def _summary_lines(data: Mapping[str, Any]) -> Iterator[str]:
    heading = "Apply complete" if data["ok"] else "Apply finished with failures"
    yield f"{heading}: {_counts(data['summary'])}."
    for dv in data["dataviews"]:
        yield f"  dataview {dv['dataview']}: {_counts(dv['summary'])}"
    failed = [
        (dv["dataview"], a)
        for dv in data["dataviews"]
        for a in dv["actions"]
        if a["outcome"] == Outcome.FAILED.value
    ]
    if failed:
        yield "Failed:"
        for ref, a in failed:
            yield f"  dataview {ref}: {a['symbol']} {a['key']} ({a['handler_type']}) {a['message']}"
        yield _next_step([a for _, a in failed], _EXECUTION_ADVICE)


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


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _counts(summary: Mapping[str, int]) -> str:
    return ", ".join(f"{summary[name]} {name}" for name in _OUTCOMES)
