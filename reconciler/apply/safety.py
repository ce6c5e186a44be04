"""Safety rules checked before anything is sent: ``protect`` and ``--max-deletes``.

Both refuse the whole apply, before preflight, so a refused run changes
nothing and the user decides how to proceed with the full picture in front
of them.
"""

from __future__ import annotations

from reconciler.errors import ApplyRefusedError
from reconciler.model import DataviewRef
from reconciler.plan import Action, Change, Plan

__all__ = ["check_safety", "deleted_exports"]

_DELETING = (Action.DELETE, Action.REPLACE)


def check_safety(plan: Plan, *, max_deletes: int | None) -> None:
    """Raise ``ApplyRefusedError`` if a safety rule forbids applying ``plan``."""
    _check_protect(plan)
    if max_deletes is not None:
        _check_max_deletes(plan, max_deletes)


def deleted_exports(plan: Plan) -> list[tuple[DataviewRef, Change]]:
    """The changes that delete a live export: deletes and the delete half of replaces."""
    return [(ref, change) for ref, change in plan.changes() if change.action in _DELETING]


def _describe(ref: DataviewRef, change: Change) -> str:
    export = f" (export {change.export_id})" if change.export_id is not None else ""
    return f"  dataview {ref}: {change.action.symbol} {change.key}{export}"


def _check_protect(plan: Plan) -> None:
    refused = [(ref, c) for ref, c in plan.changes() if c.refused and c.action.is_change]
    if not refused:
        return
    count = len(refused)
    lines = [
        f"apply refused: {count} change{'s' if count != 1 else ''} would delete "
        f"{'a protected export' if count == 1 else 'protected exports'}:",
        *(f"{_describe(ref, change)}: {change.refused}" for ref, change in refused),
        "Nothing was changed. If this is intended, lift the protection as each line "
        "says; otherwise change the manifest so they are kept, or leave them out "
        "with --exclude.",
    ]
    raise ApplyRefusedError("\n".join(lines))


def _check_max_deletes(plan: Plan, max_deletes: int) -> None:
    deletes = deleted_exports(plan)
    if len(deletes) <= max_deletes:
        return
    count = len(deletes)
    lines = [
        f"apply refused: the plan deletes {count} export{'s' if count != 1 else ''}, "
        f"more than --max-deletes {max_deletes} allows:",
        *(_describe(ref, change) for ref, change in deletes),
        "Nothing was changed. Check the plan; if these deletes are intended, "
        f"apply again with --max-deletes {count}.",
    ]
    raise ApplyRefusedError("\n".join(lines))
