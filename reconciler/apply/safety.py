"""Safety rules checked before anything is sent: ``protect`` and ``--max-deletes``.

Both refuse the whole apply, before preflight, so a refused run changes
nothing and the user decides how to proceed with the full picture in front
of them.
"""

from __future__ import annotations

from reconciler.errors import ApplyRefusedError
from reconciler.model import Scope, common_noun
from reconciler.plan import Action, Change, Plan

__all__ = ["check_safety", "deleted_resources"]

_DELETING = (Action.DELETE, Action.REPLACE)


def check_safety(plan: Plan, *, max_deletes: int | None) -> None:
    """Raise ``ApplyRefusedError`` if a safety rule forbids applying ``plan``."""
    _check_protect(plan)
    if max_deletes is not None:
        _check_max_deletes(plan, max_deletes)


def deleted_resources(plan: Plan) -> list[tuple[Scope, Change]]:
    """The changes that delete something live: deletes and the delete half of replaces.

    A snapshot's pruned runs count too: ``--max-deletes`` bounds everything
    apply would remove.
    """
    return [(scope, change) for scope, change in plan.changes() if change.action in _DELETING]


def _describe(scope: Scope, change: Change) -> str:
    what = f" ({scope.resource_noun} {change.resource_id})" if change.resource_id else ""
    return f"  {scope.title}: {change.action.symbol} {change.key}{what}"


def _noun(changes: list[tuple[Scope, Change]], count: int) -> str:
    """The resources' noun ("export"), or "resource" when the changes mix kinds."""
    noun = common_noun(scope for scope, _ in changes)
    return noun if count == 1 else f"{noun}s"


def _check_protect(plan: Plan) -> None:
    refused = [(s, c) for s, c in plan.changes() if c.refused and c.action.is_change]
    if not refused:
        return
    count = len(refused)
    noun = _noun(refused, count)
    lines = [
        f"apply refused: {count} change{'s' if count != 1 else ''} would delete "
        f"{f'a protected {noun}' if count == 1 else f'protected {noun}'}:",
        *(f"{_describe(scope, change)}: {change.refused}" for scope, change in refused),
        "Nothing was changed. If this is intended, lift the protection as each line "
        "says; otherwise change the manifest so they are kept, or leave them out "
        "with --exclude.",
    ]
    raise ApplyRefusedError("\n".join(lines))


def _check_max_deletes(plan: Plan, max_deletes: int) -> None:
    deletes = deleted_resources(plan)
    if len(deletes) <= max_deletes:
        return
    count = len(deletes)
    lines = [
        f"apply refused: the plan deletes {count} {_noun(deletes, count)}, "
        f"more than --max-deletes {max_deletes} allows:",
        *(_describe(scope, change) for scope, change in deletes),
        "Nothing was changed. Check the plan; if these deletes are intended, "
        f"apply again with --max-deletes {count}.",
    ]
    raise ApplyRefusedError("\n".join(lines))
