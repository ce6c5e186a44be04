"""The order in which one dataview's changes are carried out.

Deletes come first so they free destinations (an S3 file, a table) that later
adds and edits may take; edits and adoptions come next; adds come last, in the
order the plan lists them, which is manifest order. A replace is split in two:
its delete half runs with the deletes and its add half with the adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from reconciler.plan import Action, Change, DataviewPlan

__all__ = ["Phase", "Step", "order_steps"]


class Phase(Enum):
    """What one step does to the API; the value is its place in the order."""

    DELETE = 0
    EDIT = 1
    ADD = 2


_PHASES: dict[Action, tuple[Phase, ...]] = {
    Action.DELETE: (Phase.DELETE,),
    Action.REPLACE: (Phase.DELETE, Phase.ADD),
    Action.EDIT: (Phase.EDIT,),
    Action.ADOPT: (Phase.EDIT,),
    Action.ADD: (Phase.ADD,),
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


def order_steps(dataview: DataviewPlan) -> tuple[Step, ...]:
    """The steps apply takes for ``dataview``: deletes, then edits, then adds.

    Records (unmanaged, no-op) take no step. Within a phase the plan's own
    order is kept (``sorted`` is stable).
    """
    steps = [
        Step(change, phase)
        for change in dataview.changes
        for phase in _PHASES.get(change.action, ())
    ]
    return tuple(sorted(steps, key=lambda step: step.phase.value))
