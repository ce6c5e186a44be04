"""The order in which one scope's changes are carried out.

Snapshot runs (and waits) come first, so a ``keep`` prune only deletes old
runs once the fresh one succeeded. Deletes come next so they free destinations
(an S3 file, a table) that later adds and edits may take; edits and adoptions
follow; adds come last, in the order the plan lists them, which is manifest
order. A replace is split in two: its delete half runs with the deletes and
its add half with the adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from reconciler.plan import Action, Change, ScopePlan

__all__ = ["Phase", "Step", "order_steps"]


class Phase(Enum):
    """What one step does to the API; the value is its place in the order."""

    RUN = 0
    DELETE = 1
    EDIT = 2
    ADD = 3


_PHASES: dict[Action, tuple[Phase, ...]] = {
    Action.DELETE: (Phase.DELETE,),
    Action.REPLACE: (Phase.DELETE, Phase.ADD),
    Action.EDIT: (Phase.EDIT,),
    Action.ADOPT: (Phase.EDIT,),
    Action.ADD: (Phase.ADD,),
    Action.RUN: (Phase.RUN,),
    Action.WAIT: (Phase.RUN,),
}


@dataclass(frozen=True)
class Step:
    """One half (or the whole) of a planned change, at its place in the order."""

    change: Change
    phase: Phase

    @property
    def is_last_of_change(self) -> bool:
        """Whether the change is complete once this step is done."""
        return _PHASES[self.change.action][-1] is self.phase


def order_steps(scope_plan: ScopePlan) -> tuple[Step, ...]:
    """The steps apply takes for a scope: runs, deletes, edits, then adds.

    Records (unmanaged, no-op, fresh) take no step. Within a phase the plan's
    own order is kept (``sorted`` is stable).
    """
    steps = [
        Step(change, phase)
        for change in scope_plan.changes
        for phase in _PHASES.get(change.action, ())
    ]
    return tuple(sorted(steps, key=lambda step: step.phase.value))
