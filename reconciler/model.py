"""The desired and live state that the planner compares, as immutable values.

Every provider speaks this vocabulary: a ``Scope`` (where resources live),
declarative resources (``DesiredResource`` / ``ListedResource``, compared
field by field through the provider's ``ResourceKind``) and snapshots
(``SnapshotSpec`` / ``LiveRun``, one-off runs that must exist and be fresh).
The manifest loader produces a ``DesiredState``; providers produce
``LiveScope`` values; the planner turns both into a plan. Nested JSON
(a resource's fields, a snapshot's request) is kept frozen (``FrozenDict`` and
tuples) so a model cannot be changed behind the planner's back; ``thaw`` turns
it back into plain JSON for the wire and for diffing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from reconciler.diagnostics import SourceLocation

if TYPE_CHECKING:
    from reconciler.kinds import ResourceKind

__all__ = [
    "DesiredResource",
    "DesiredState",
    "FrozenDict",
    "ListedResource",
    "LiveRun",
    "LiveScope",
    "Prune",
    "RunState",
    "Scope",
    "ScopeSpec",
    "SnapshotSpec",
    "Unmanaged",
    "common_noun",
    "freeze",
    "headings",
    "kind_notes",
    "loads_frozen",
    "scope_titles",
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

    def __reduce__(self) -> tuple[type[FrozenDict], tuple[dict[str, Any]]]:
        """Pickled as the plain dict it holds: rebuilding item by item would be refused."""
        return (FrozenDict, (dict(self),))


_SCALARS = frozenset({str, int, float, bool, type(None)})


def freeze(value: Any) -> Any:
    """Deep-freeze plain JSON: dicts become ``FrozenDict``, lists become tuples.

    Called for every field of every export, listed or loaded, so scalars (most
    values) are recognised by exact type before the slower ABC checks, and
    without a call of their own inside a mapping; every empty mapping is the
    one ``FrozenDict()`` (an export's ``condition`` is nearly always empty).
    """
    kind = type(value)
    if kind in _SCALARS or kind is FrozenDict:
        return value
    if kind is dict:
        if not value:
            return _EMPTY
        return FrozenDict(
            {
                k if type(k) is str else str(k): v if type(v) in _SCALARS else freeze(v)
                for k, v in value.items()
            }
        )
    if isinstance(value, Mapping):
        return FrozenDict({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


_EMPTY = FrozenDict()


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


@dataclass(frozen=True)
class Scope:
    """Where one provider's resources of one kind live: the unit a plan lists.

    ``address`` is the provider's own text for it (Mammoth: ``W/P/D/V`` ids);
    ``fields`` are the same facts as data, carried opaquely through the plan
    so the provider can rebuild what it needs. ``noun`` and ``resource_noun``
    are how a user calls the scope and its resources ("dataview", "export").
    Two scopes are the same when provider, kind and address are.
    """

    provider: str
    kind: str
    address: str
    fields: FrozenDict = field(default_factory=FrozenDict, compare=False)
    noun: str = field(default="scope", compare=False)
    resource_noun: str = field(default="resource", compare=False)

    def __str__(self) -> str:
        return self.address

    @property
    def title(self) -> str:
        """How a plan heads the scope: "dataview 1/1/123/456"."""
        return f"{self.noun} {self.address}"


def common_noun(scopes: Iterable[Scope], *, of_resources: bool = True) -> str:
    """What a message calls these scopes' resources (or the scopes): their one noun, or
    "resource" ("scope") when they differ, so one provider's plans keep its words.

    A count of scopes says "scope" too when two of them have one title: one
    data-tools user's templates and snapshots are two scopes, and "2 data-tools
    users" would count that one user twice.
    """
    scopes = list(scopes)
    nouns = {s.resource_noun if of_resources else s.noun for s in scopes}
    shared = not of_resources and len({s.title for s in scopes}) < len(set(scopes))
    if len(nouns) == 1 and not shared:
        return nouns.pop()
    return "resource" if of_resources else "scope"


def kind_notes(named: Sequence[tuple[str, str, str]]) -> list[str]:
    """What tells apart scopes that one title would head alike, from each one's
    (noun, address, kind): ``" (templates)"`` after the title, else ``""``.

    A provider may keep two kinds at one address: a data-tools user's templates
    and snapshots are two scopes, both titled "data-tools user sandbox". Their
    headings add the kind, as the manifest lists it, so no two read the same;
    every other scope is headed by its title alone, as before.
    """
    titles = Counter((noun, address) for noun, address, _ in named)
    return [f" ({kind})" if titles[noun, address] > 1 else "" for noun, address, kind in named]


def headings(named: Sequence[tuple[str, str, str]]) -> list[str]:
    """Each scope's heading from its (noun, address, kind): its title, then its
    ``kind_notes`` note: "dataview 1/1/123/456", "data-tools user sandbox (templates)"."""
    notes = kind_notes(named)
    return [f"{noun} {where}{note}" for (noun, where, _), note in zip(named, notes, strict=True)]


def scope_titles(scopes: Sequence[Scope]) -> list[str]:
    """``headings`` of scopes a message lists together."""
    return headings([(s.noun, s.address, s.kind) for s in scopes])


class Prune(Enum):
    """Which live resources of a scope apply may delete."""

    MANAGED = "managed"  # only resources exportctl marked, whose key left the manifest
    ALL = "all"  # also unmarked resources that match nothing in the manifest
    NONE = "none"  # never delete


class Unmanaged(Enum):
    """Whether a scope's unmanaged resources are drift (the default) or only information.

    ``information`` is for a scope other people also write to by hand (with
    ``prune: none``): its unmanaged resources are still listed, but
    ``exportctl drift`` stays green for them, while drift of the managed ones
    still fails it. Each provider's section loader fills it from the manifest.
    """

    DRIFT = "drift"
    INFORMATION = "information"


class DesiredResource(Protocol):
    """One desired declarative resource, as its provider's manifest section made it.

    Values resolved from ``${env:...}`` may be secret: only the provider's
    kind reads the resource's fields (to normalize it, redacted); ``env_refs``
    maps a dotted path to the template it came from, so a saved plan can
    re-resolve it at apply time.
    """

    @property
    def key(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def protect(self) -> bool: ...
    @property
    def env_refs(self) -> FrozenDict: ...
    @property
    def location(self) -> SourceLocation | None: ...


class ListedResource(Protocol):
    """One live declarative resource as its provider listed it."""

    @property
    def resource_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def deleted(self) -> bool: ...


@dataclass(frozen=True)
class SnapshotSpec:
    """A one-off run the user wants to exist and be fresh.

    ``request`` is the normalized request, as the provider compares it with
    a listed run's (it is the snapshot's identity; no marker exists);
    ``max_age_s`` how old a successful run may be; ``keep`` how many
    successful runs to keep (older ones are pruned where the API can delete);
    ``download`` where to write the artifact after a run. ``type`` is a short
    label of what runs ("csv", "s3 export"). ``write_only`` holds what a run
    is sent but never compared, stored or shown (Domo's AWS credentials), so a
    rotated credential alone plans nothing. ``run_note`` is what a user should
    know before a run starts (Domo may answer with its previous export), added
    to every ``+ run`` reason.
    """

    key: str
    type: str
    request: FrozenDict
    max_age_s: float | None = None
    keep: int | None = None
    download: str | None = None
    write_only: FrozenDict = field(default_factory=FrozenDict, compare=False, repr=False)
    env_refs: FrozenDict = field(default_factory=FrozenDict)
    location: SourceLocation | None = field(default=None, compare=False)
    run_note: str = field(default="", compare=False)


class RunState(Enum):
    """Where a listed run is, in the core's words (each provider maps its statuses)."""

    RUNNING = "running"  # requested, queued or in progress
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"  # succeeded once, but its artifact is gone


@dataclass(frozen=True)
class LiveRun:
    """One run of a snapshot kind as its provider listed it.

    ``age_s`` is measured by the server's clock (seconds since the run was
    requested, or finished when the API says), so a sandbox clock moved
    forward, or a skewed local clock, ages runs as the server does.
    ``exclusive`` marks a run that holds its whole scope while it runs (Domo
    runs one export per DataSet at a time): every entry of the scope waits
    for it, whatever its request.
    """

    run_id: str
    request: FrozenDict
    state: RunState
    age_s: float
    status: str = ""  # the provider's own word for the state, shown as is
    failure: str | None = None
    exclusive: bool = False


@dataclass(frozen=True)
class ScopeSpec:
    """What the manifest wants in one scope, in manifest order.

    ``kind`` holds the provider's facts the planner needs (normalization,
    markers, addresses) for declarative ``resources``; snapshot scopes hold
    ``snapshots`` instead and need none.
    """

    scope: Scope
    resources: tuple[DesiredResource, ...] = ()
    prune: Prune = Prune.MANAGED
    location: SourceLocation | None = field(default=None, compare=False)
    unmanaged: Unmanaged = Unmanaged.DRIFT
    kind: ResourceKind | None = field(default=None, compare=False, repr=False)
    snapshots: tuple[SnapshotSpec, ...] = ()

    def entry_count(self) -> int:
        return len(self.resources) + len(self.snapshots)


@dataclass(frozen=True)
class DesiredState:
    """Everything the manifest files ask for.

    ``sources`` are the files read, in load order; ``digest`` is a hash of their
    text, so a saved plan can tell whether it was made from the same manifest.
    """

    scopes: tuple[ScopeSpec, ...]
    sources: tuple[str, ...] = ()
    digest: str = ""

    def __iter__(self) -> Iterator[ScopeSpec]:
        return iter(self.scopes)

    def entry_count(self) -> int:
        return sum(spec.entry_count() for spec in self.scopes)

    def providers(self) -> tuple[str, ...]:
        """The providers the manifest uses, in order of first appearance."""
        return tuple(dict.fromkeys(spec.scope.provider for spec in self.scopes))


@dataclass(frozen=True)
class LiveScope:
    """The live resources (or runs) of one scope as listed at one moment.

    A provider lists resources in its own stable order (Mammoth: by id), and
    includes ones its API marks deleted; ``present`` leaves those out.
    """

    scope: Scope
    resources: tuple[ListedResource, ...] = ()
    runs: tuple[LiveRun, ...] = ()

    def present(self) -> list[ListedResource]:
        """The resources that count as live, in listed order."""
        return [r for r in self.resources if not r.deleted]
