"""The plan as plain data: what apply would do, per scope, and why.

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
from typing import TYPE_CHECKING, Any

from reconciler.model import (
    DesiredResource,
    ListedResource,
    LiveRun,
    Scope,
    SnapshotSpec,
    Unmanaged,
)

if TYPE_CHECKING:
    from reconciler.kinds import ResourceKind

__all__ = [
    "SENSITIVE",
    "Action",
    "Change",
    "DriftKind",
    "FieldChange",
    "Plan",
    "ScopePlan",
]

# Shown in place of a secret value, old or new.
SENSITIVE = "(sensitive)"


class Action(Enum):
    """What apply does to one resource or snapshot. The symbol is what the text plan shows.

    The first seven are for declarative resources; ``run``, ``wait`` and
    ``fresh`` for snapshots (a snapshot that is too old or missing runs; one
    in progress is waited for; a fresh one is left alone).
    """

    ADD = "add"
    EDIT = "edit"
    REPLACE = "replace"
    DELETE = "delete"
    ADOPT = "adopt"
    UNMANAGED = "unmanaged"
    NOOP = "no-op"
    RUN = "run"
    WAIT = "wait"
    FRESH = "fresh"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def is_change(self) -> bool:
        """Whether apply would call the API for it (unmanaged, no-op and fresh are records)."""
        return self not in (Action.UNMANAGED, Action.NOOP, Action.FRESH)


_SYMBOLS = {
    Action.ADD: "+",
    Action.EDIT: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.ADOPT: "<=",
    Action.UNMANAGED: "?",
    Action.NOOP: " ",
    Action.RUN: "+",
    Action.WAIT: "…",
    Action.FRESH: "=",
}


class DriftKind(Enum):
    """Why live differs from the manifest, as ``drift`` reports it."""

    CHANGED_BY_HAND = "changed_by_hand"  # live no longer hashes to the marker's `applied`
    NOT_YET_APPLIED = "not_yet_applied"  # live matches `applied`; the manifest moved on
    MISSING = "missing"  # in the manifest, absent live
    UNMANAGED = "unmanaged"  # live, unmarked, matching nothing in the manifest
    STALE = "stale"  # a snapshot with no successful run younger than its max_age
    FAILED = "failed"  # a snapshot whose latest run failed


@dataclass(frozen=True)
class FieldChange:
    """One changed field: dotted path, old and new value (redacted when sensitive)."""

    path: str
    old: Any
    new: Any
    sensitive: bool = False


@dataclass(frozen=True)
class Change:
    """One entry of the plan for one resource or snapshot.

    ``key`` is the manifest key; for unmarked live resources it is a label
    derived from the destination. ``type`` is the resource's type (Mammoth: the
    handler type) and ``resource_id`` its id live (a snapshot's: the run it
    waits for or found fresh). ``reason`` says why, for the UI. ``refused`` is
    set when a safety rule (``protect``) will stop apply from doing it.
    """

    action: Action
    key: str
    type: str
    resource_id: str | None
    reason: str
    fields: tuple[FieldChange, ...] = ()
    drift: DriftKind | None = None
    refused: str | None = None
    desired: DesiredResource | SnapshotSpec | None = field(default=None, compare=False, repr=False)
    live: ListedResource | LiveRun | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ScopePlan:
    """The changes for one scope and a fingerprint of the live resources seen.

    ``kind`` is the scope's resource kind for the applier (natural addresses,
    markers); a plan read back from JSON has none until it is planned again.
    ``unmanaged`` is the manifest's word on whether this scope's unmanaged
    entries are drift, for ``exportctl drift``.
    """

    scope: Scope
    changes: tuple[Change, ...]
    live_fingerprint: str = ""
    kind: ResourceKind | None = field(default=None, compare=False, repr=False)
    unmanaged: Unmanaged = Unmanaged.DRIFT

    @property
    def has_changes(self) -> bool:
        return any(c.action.is_change for c in self.changes)


@dataclass(frozen=True)
class Plan:
    """The whole plan, scopes in manifest order."""

    scopes: tuple[ScopePlan, ...]
    manifest_digest: str = ""

    def changes(self) -> Iterator[tuple[Scope, Change]]:
        for scope_plan in self.scopes:
            for change in scope_plan.changes:
                yield scope_plan.scope, change

    def counts(self) -> Counter[Action]:
        return Counter(change.action for _, change in self.changes())

    @property
    def has_changes(self) -> bool:
        return any(sp.has_changes for sp in self.scopes)
