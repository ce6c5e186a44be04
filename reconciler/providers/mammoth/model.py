"""Mammoth's resources in the core's vocabulary: a dataview is a scope, an export a resource.

``DataviewRef`` is a dataview's four ids; ``ExportSpec`` a desired export as
the ``dataviews:`` section describes it (after defaults and ``${env:...}``);
``LiveExport`` an export as the API lists it. Both expose ``type`` (the
handler type) and the export's fields by their API names, which is what
``normalize`` compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.diagnostics import SourceLocation
from reconciler.model import FrozenDict, LiveScope, Scope, freeze

__all__ = [
    "ID_FIELDS",
    "KIND",
    "PROVIDER",
    "DataviewRef",
    "ExportSpec",
    "LiveExport",
    "is_suspended_status",
    "live_dataview",
    "present_exports",
]

PROVIDER = "mammoth"
KIND = "exports"  # the one kind of resource Mammoth has: a dataview's pipeline exports
# A dataview's four ids, as the API, the manifest and a scope's fields name them.
ID_FIELDS = ("workspace_id", "project_id", "dataset_id", "dataview_id")


@dataclass(frozen=True, order=True)
class DataviewRef:
    """The address of a dataview: workspace/project/dataset/dataview ids."""

    workspace_id: int
    project_id: int
    dataset_id: int
    dataview_id: int

    def __str__(self) -> str:
        return f"{self.workspace_id}/{self.project_id}/{self.dataset_id}/{self.dataview_id}"

    @classmethod
    def parse(cls, text: str) -> DataviewRef:
        """Parse ``W/P/D/V``; raises ``ValueError`` with a readable message."""
        parts = text.strip().split("/")
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            raise ValueError(f"expected WORKSPACE/PROJECT/DATASET/DATAVIEW ids, got {text!r}")
        w, p, d, v = (int(x) for x in parts)
        return cls(w, p, d, v)

    @property
    def scope(self) -> Scope:
        """The dataview as the core's scope; its fields are the four ids."""
        return Scope(
            PROVIDER,
            KIND,
            str(self),
            freeze(dict(zip(ID_FIELDS, self.ids(), strict=True))),
            noun="dataview",
            resource_noun="export",
        )

    def ids(self) -> tuple[int, int, int, int]:
        return (self.workspace_id, self.project_id, self.dataset_id, self.dataview_id)

    @classmethod
    def of(cls, scope: Scope) -> DataviewRef:
        """The dataview a Mammoth scope names (from its fields, or its address)."""
        ids = [scope.fields.get(name) for name in ID_FIELDS]
        w, p, d, v = ids
        if isinstance(w, int) and isinstance(p, int) and isinstance(d, int) and isinstance(v, int):
            return cls(w, p, d, v)
        return cls.parse(scope.address)


@dataclass(frozen=True)
class ExportSpec:
    """One desired export, after defaults and ``${env:...}`` were applied.

    ``target_properties`` may hold secret values resolved from the environment;
    they must never be printed: renderers work from the plan, which holds only
    redacted values. ``env_refs`` maps a dotted path (``target_properties.password``)
    to the template it was resolved from (``${env:PG_PASSWORD}``), so a saved
    plan can re-resolve it at apply time.
    """

    key: str
    handler_type: str
    trigger_type: str
    target_properties: FrozenDict
    condition: FrozenDict = field(default_factory=FrozenDict)
    additional_properties: FrozenDict = field(default_factory=FrozenDict)
    end_of_pipeline: bool = True
    sequence: int | None = None
    run_immediately: bool = True
    suspended: bool = False
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    env_refs: FrozenDict = field(default_factory=FrozenDict)
    location: SourceLocation | None = field(default=None, compare=False)

    @property
    def type(self) -> str:
        return self.handler_type


@dataclass(frozen=True)
class LiveExport:
    """One export as the API lists it: the fields the planner compares."""

    id: int
    handler_type: str
    trigger_type: str | None
    status: str | None
    sequence: int | None
    end_of_pipeline: bool | None
    target_properties: FrozenDict
    condition: FrozenDict
    additional_properties: FrozenDict
    # At the end of the dataview's pipeline: where the server puts an export
    # asked to sit at a position beyond the end (``kind.normalize`` uses it).
    last: bool = False

    @classmethod
    def from_api(cls, record: Mapping[str, Any]) -> LiveExport:
        """Build from an ``ItemExportInfo`` record; null objects become empty ones."""
        frozen: FrozenDict = freeze(record)  # free for records from ``loads_frozen``
        return cls(
            id=int(frozen["id"]),
            handler_type=str(frozen.get("handler_type") or ""),
            trigger_type=frozen.get("trigger_type"),
            status=frozen.get("status"),
            sequence=frozen.get("sequence"),
            end_of_pipeline=frozen.get("end_of_pipeline"),
            target_properties=frozen.get("target_properties") or FrozenDict(),
            condition=frozen.get("condition") or FrozenDict(),
            additional_properties=frozen.get("additional_properties") or FrozenDict(),
        )

    @property
    def type(self) -> str:
        return self.handler_type

    @property
    def resource_id(self) -> str:
        return str(self.id)

    @property
    def suspended(self) -> bool:
        return is_suspended_status(self.status)

    @property
    def deleted(self) -> bool:
        return self.status == "deleted"


def is_suspended_status(status: str | None) -> bool:
    """Whether an export in this status counts as suspended (also while it gets there)."""
    return status in ("suspended", "suspending")


def present_exports(live: LiveScope) -> list[LiveExport]:
    """The exports of a Mammoth listing that count as live, by id, as Mammoth's type."""
    return sorted((e for e in live.present() if isinstance(e, LiveExport)), key=lambda e: e.id)


def live_dataview(ref: DataviewRef, records: Iterable[Mapping[str, Any]]) -> LiveScope:
    """A dataview's listing as the core's ``LiveScope``, exports by id."""
    exports = sorted((LiveExport.from_api(r) for r in records), key=lambda e: e.id)
    positions = [e.sequence for e in exports if e.sequence is not None and e.status != "deleted"]
    end = max(positions, default=None)
    if end is not None:
        exports = [
            replace(e, last=True) if e.sequence == end and e.status != "deleted" else e
            for e in exports
        ]
    return LiveScope(ref.scope, tuple(exports))
