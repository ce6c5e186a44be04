"""The plan as plain data: what apply would do, per dataview, and why.

The planner builds it, renderers print it (from its versioned JSON form), the
applier executes it. It holds no secret values: field changes carry redacted
values only, and the desired specs it keeps for the applier are excluded from
comparison, ``repr`` and every serialized form.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from reconciler.model import DataviewRef, ExportSpec, LiveExport

__all__ = [
    "SENSITIVE",
    "Action",
    "Change",
    "DataviewPlan",
    "DriftKind",
    "FieldChange",
    "Plan",
]

# Shown in place of a secret value, old or new.
SENSITIVE = "(sensitive)"


class Action(Enum):
    """What apply does to one export. The symbol is what the text plan shows."""

    ADD = "add"
    EDIT = "edit"
    REPLACE = "replace"
    DELETE = "delete"
    ADOPT = "adopt"
    UNMANAGED = "unmanaged"
    NOOP = "no-op"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def is_change(self) -> bool:
        """Whether apply would call the API for it (unmanaged and no-op are records)."""
        return self not in (Action.UNMANAGED, Action.NOOP)


_SYMBOLS = {
    Action.ADD: "+",
    Action.EDIT: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.ADOPT: "<=",
    Action.UNMANAGED: "?",
    Action.NOOP: " ",
}


class DriftKind(Enum):
    """Why live differs from the manifest, as ``drift`` reports it."""

    CHANGED_BY_HAND = "changed_by_hand"  # live no longer hashes to the marker's `applied`
    NOT_YET_APPLIED = "not_yet_applied"  # live matches `applied`; the manifest moved on
    MISSING = "missing"  # in the manifest, absent live
    UNMANAGED = "unmanaged"  # live, unmarked, matching nothing in the manifest


@dataclass(frozen=True)
class FieldChange:
    """One changed field: dotted path, old and new value (redacted when sensitive)."""

    path: str
    old: Any
    new: Any
    sensitive: bool = False


@dataclass(frozen=True)
class Change:
    """One entry of the plan for one export.

    ``key`` is the manifest key; for unmarked live exports it is a label derived
    from the destination. ``reason`` says why, for the UI. ``refused`` is set
    when a safety rule (``protect``) will stop apply from doing it.
    """

    action: Action
    key: str
    handler_type: str
    export_id: int | None
    reason: str
    fields: tuple[FieldChange, ...] = ()
    drift: DriftKind | None = None
    refused: str | None = None
    desired: ExportSpec | None = field(default=None, compare=False, repr=False)
    live: LiveExport | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DataviewPlan:
    """The changes for one dataview and a fingerprint of the live exports seen."""

    ref: DataviewRef
    changes: tuple[Change, ...]
    live_fingerprint: str = ""

    @property
    def has_changes(self) -> bool:
        return any(c.action.is_change for c in self.changes)


@dataclass(frozen=True)
class Plan:
    """The whole plan, dataviews in manifest order."""

    dataviews: tuple[DataviewPlan, ...]
    manifest_digest: str = ""

    def changes(self) -> Iterator[tuple[DataviewRef, Change]]:
        for dataview in self.dataviews:
            for change in dataview.changes:
                yield dataview.ref, change

    def counts(self) -> Counter[Action]:
        return Counter(change.action for _, change in self.changes())

    @property
    def has_changes(self) -> bool:
        return any(dv.has_changes for dv in self.dataviews)
