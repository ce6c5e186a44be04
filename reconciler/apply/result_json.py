"""``ApplyResult``'s versioned JSON form (``schemas/apply-result.schema.json``).

What ``apply --format json`` prints, and what the text summary is rendered
from (``reconciler.render.apply_report``), so the two cannot disagree. It sits
beside ``result.py`` because it is the result's data in another shape, a
stable machine interface, not a view: the same split as ``plan.py`` and
``plan_json.py``.
"""

from __future__ import annotations

from typing import Any

from reconciler.apply.result import ActionResult, ApplyResult, Outcome, PreflightFailure
from reconciler.model import Scope

__all__ = ["RESULT_FORMAT_VERSION", "preflight_failure_json", "result_to_json"]

# 1.1: "error" for runs that stop early; 1.2: each action's "failure" kind;
# 1.3: each preflight failure's "failure" kind; 2.0: scopes of any provider
# (provider, kind, address), "type" and string ids, snapshot actions
RESULT_FORMAT_VERSION = "2.0"


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
        "preflight_failures": [preflight_failure_json(f) for f in result.preflight_failures],
        "scopes": [
            {
                **_scope_json(sr.scope),
                "summary": {o.value: sr.counts().get(o, 0) for o in Outcome},
                "actions": [_action_json(a) for a in sr.actions],
            }
            for sr in result.scopes
        ],
    }


def _scope_json(scope: Scope) -> dict[str, Any]:
    return {
        "provider": scope.provider,
        "kind": scope.kind,
        "address": scope.address,
        "noun": scope.noun,
    }


def preflight_failure_json(failure: PreflightFailure) -> dict[str, Any]:
    """One dry run that did not pass; ``plan --preflight`` lists them in the same shape."""
    return {
        **_scope_json(failure.scope),
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
        "type": action.type,
        "outcome": action.outcome.value,
        "message": action.message,
        "id": action.resource_id,
        "job_id": action.job_id,
        "failure": action.failure.value if action.failure else None,
    }
