"""The desired and live state that the planner compares, as immutable values.

The manifest loader produces a ``DesiredState``; the API client produces
``LiveDataview`` values; the planner turns both into a plan. Nested JSON
(``target_properties``, ``condition``, ...) is kept frozen (``FrozenDict`` and
tuples) so a model cannot be changed behind the planner's back; ``thaw`` turns
it back into plain JSON for the wire and for diffing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NoReturn

from reconciler.diagnostics import SourceLocation

__all__ = [
    "DataviewRef",
    "DataviewSpec",
    "DesiredState",
    "ExportSpec",
    "FrozenDict",
    "LiveDataview",
    "LiveExport",
    "Prune",
    "freeze",
    "is_suspended_status",
    "loads_frozen",
    "present_exports",
    "thaw",
]


class FrozenDict(dict[str, Any]):
    """A dict that refuses mutation; still a ``dict`` for json and deepdiff.

    Build one with ``freeze`` or ``loads_frozen``, which freeze every level, so
    that ``freeze`` can take any ``FrozenDict`` as frozen all the way down.
    """

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("FrozenDict is immutable")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda item: item[0])))


_SCALARS = frozenset({str, int, float, bool, type(None)})


def freeze(value: Any) -> Any:
    """Deep-freeze plain JSON: dicts become ``FrozenDict``, lists become tuples.

    Called for every field of every listed export, so scalars (most values)
    are recognised by exact type before the slower ABC checks.
    """
    if type(value) in _SCALARS or type(value) is FrozenDict:
        return value
    if isinstance(value, Mapping):
        return FrozenDict({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def loads_frozen(data: str | bytes) -> Any:
    """Parse JSON straight into frozen values: ``freeze(json.loads(data))``, cheaper.

    The C parser builds each object and a hook freezes it on the spot, instead
    of a second walk over the parsed answer; listing answers are parsed this
    way, tens of thousands of exports in a large plan.
    """
    value = json.loads(data, object_hook=_frozen_object)
    return _frozen_list(value) if type(value) is list else value


def _frozen_object(obj: dict[str, Any]) -> FrozenDict:
    # Nested objects arrive frozen already; only list values are left to turn
    # into tuples, and most objects have none (checked without a Python loop).
    if list in map(type, obj.values()):
        for name, value in obj.items():
            if type(value) is list:
                obj[name] = _frozen_list(value)
    return FrozenDict(obj)


def _frozen_list(items: list[Any]) -> tuple[Any, ...]:
    return tuple(_frozen_list(v) if type(v) is list else v for v in items)


def thaw(value: Any) -> Any:
    """Turn frozen values back into plain, mutable JSON (dicts and lists)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


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


class Prune(Enum):
    """Which live exports of a dataview apply may delete."""

    MANAGED = "managed"  # only exports exportctl marked, whose key left the manifest
    ALL = "all"  # also unmarked exports that match nothing in the manifest
    NONE = "none"  # never delete


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


@dataclass(frozen=True)
class DataviewSpec:
    """The desired exports of one dataview, in manifest order."""

    ref: DataviewRef
    exports: tuple[ExportSpec, ...]
    prune: Prune = Prune.MANAGED
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DesiredState:
    """Everything the manifest files ask for.

    ``sources`` are the files read, in load order; ``digest`` is a hash of their
    text, so a saved plan can tell whether it was made from the same manifest.

    """

    dataviews: tuple[DataviewSpec, ...]
    sources: tuple[str, ...] = ()
    digest: str = ""
    provider: str = ""  # the registry name of the provider that owns these scopes

    def __iter__(self) -> Iterator[DataviewSpec]:
        return iter(self.dataviews)

    def export_count(self) -> int:
        return sum(len(dv.exports) for dv in self.dataviews)


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
    def suspended(self) -> bool:
        return is_suspended_status(self.status)

    @property
    def deleted(self) -> bool:
        return self.status == "deleted"


def is_suspended_status(status: str | None) -> bool:
    """Whether an export in this status counts as suspended (also while it gets there)."""
    return status in ("suspended", "suspending")


def present_exports(exports: Iterable[LiveExport]) -> list[LiveExport]:
    """The exports that count as live (status ``deleted`` counts as absent), by id."""
    return sorted((e for e in exports if not e.deleted), key=lambda e: e.id)


@dataclass(frozen=True)
class LiveDataview:
    """The live exports of one dataview as listed at one moment."""

    ref: DataviewRef
    exports: tuple[LiveExport, ...]

    @classmethod
    def from_records(cls, ref: DataviewRef, records: Iterable[Mapping[str, Any]]) -> LiveDataview:
        return cls(ref, tuple(LiveExport.from_api(r) for r in records))

    def present(self) -> list[LiveExport]:
        """``present_exports`` of this dataview."""
        return present_exports(self.exports)
