"""Acme: a provider defined only in the tests, to prove the core needs no change for one.

It speaks to an in-memory stand-in of a tiny API, ``AcmeApi``, with both
kinds of resource the core knows:

- *widgets*, declarative: ``{name, shape, color}``; the exportctl marker is
  kept in the widget's ``labels``; a widget's shape cannot change in place
  (a replace); its name is where it "writes" (adoption by name);
- *reports*, snapshots: a run of a ``query`` that finishes on the next poll,
  aged by the API's own clock (``AcmeApi.advance`` moves it).

The API lives in the module (``API``), so successive CLI invocations in one
test process see the same platform, as a real one would be. It is installed
the way a third party's provider is: an ``exportctl.providers`` entry point
of a distribution on ``sys.path`` (see ``test_third_party_provider``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from reconciler.diagnostics import SourceLocation
from reconciler.identity import MARKER_FIELD, Marker, marker_for, parse_marker
from reconciler.manifest.schema_check import SchemaChecker, check
from reconciler.manifest.sections import Entry, LoadContext
from reconciler.manifest.yaml_source import YamlDocument
from reconciler.model import (
    DesiredResource,
    DesiredState,
    FrozenDict,
    ListedResource,
    LiveRun,
    LiveScope,
    RunState,
    Scope,
    ScopeSpec,
    SnapshotSpec,
    freeze,
    thaw,
)
from reconciler.normalize import PLAIN_OPTIONS, CompareOptions, Normalized
from reconciler.plan import SENSITIVE
from reconciler.providers.base import (
    Connection,
    FollowUp,
    IdsFrom,
    JobState,
    SandboxPart,
    SchemaParts,
    ScopeMatch,
    Written,
)

NAME = "acme"
SHAPES = ("round", "square")

# -- the platform ------------------------------------------------------------------


@dataclass
class AcmeApi:
    """What the platform stores: widgets by id, report runs by id, and its clock."""

    widgets: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    now: float = 0.0
    ids: Iterable[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self) -> str:
        return str(next(iter(self.ids)))

    def advance(self, seconds: float) -> None:
        self.now += seconds


API = AcmeApi()

# -- the manifest section ----------------------------------------------------------

_KEY = {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"}
SECTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "widgets": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "name", "shape"],
                "additionalProperties": False,
                "properties": {
                    "key": _KEY,
                    "name": {"type": "string", "minLength": 1},
                    "shape": {"enum": list(SHAPES)},
                    "color": {"type": "string"},
                    "token": {"type": "string"},
                    "protect": {"type": "boolean"},
                },
            },
        },
        "reports": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "query"],
                "additionalProperties": False,
                "properties": {
                    "key": _KEY,
                    "query": {"type": "string", "minLength": 1},
                    "max_age_s": {"type": "number", "minimum": 1},
                    "keep": {"type": "integer", "minimum": 1},
                },
            },
        },
    },
}
_CHECKER = SchemaChecker.of(SECTION_SCHEMA)
WIDGETS = Scope(NAME, "widgets", "default", noun="widgets of acme account", resource_noun="widget")
REPORTS = Scope(NAME, "reports", "default", noun="reports of acme account", resource_noun="report")


@dataclass(frozen=True)
class WidgetSpec:
    """A desired widget; ``token`` is a secret (the API masks it)."""

    key: str
    name: str
    shape: str
    color: str = "grey"
    token: str | None = None
    protect: bool = False
    env_refs: FrozenDict = field(default_factory=FrozenDict)
    location: SourceLocation | None = field(default=None, compare=False)

    @property
    def type(self) -> str:
        return self.shape


@dataclass(frozen=True)
class ListedWidget:
    """A widget as the API lists it."""

    resource_id: str
    name: str
    shape: str
    color: str
    labels: FrozenDict
    token: str | None = None

    @property
    def type(self) -> str:
        return self.shape

    @property
    def deleted(self) -> bool:
        return False


class WidgetKind:
    """The ``ResourceKind`` of widgets."""

    type_field = "shape"

    def options(self, desired: DesiredResource) -> CompareOptions:
        return PLAIN_OPTIONS

    def normalize_desired(
        self, desired: DesiredResource, options: CompareOptions | None = None
    ) -> Normalized:
        assert isinstance(desired, WidgetSpec)
        return _form(desired.name, desired.shape, desired.color, desired.token)

    def normalize_live(self, live: ListedResource, options: CompareOptions) -> Normalized:
        assert isinstance(live, ListedWidget)
        return _form(live.name, live.shape, live.color, live.token)

    def created_form(self, desired: DesiredResource) -> Normalized:
        normalized = self.normalize_desired(desired)
        form = {k: v for k, v in normalized.form.items() if k != "shape"}
        return Normalized(form, normalized.secrets)

    def marker(self, live: ListedResource) -> Marker | None:
        assert isinstance(live, ListedWidget)
        return parse_marker(live.labels.get(MARKER_FIELD))

    def address(self, resource: DesiredResource | ListedResource) -> tuple[Any, ...] | None:
        return (getattr(resource, "name", None),)

    def label(self, live: ListedResource) -> str:
        assert isinstance(live, ListedWidget)
        return f"widget:{live.name}"

    def replace_reason(self, desired: DesiredResource, live: ListedResource) -> str | None:
        if desired.type == live.type:
            return None
        return f"shape changes from {live.type!r} to {desired.type!r}; widgets cannot reshape"

    def fingerprint(self, live: ListedResource) -> Any:
        assert isinstance(live, ListedWidget)
        return (live.resource_id, live.name, live.shape, live.color, live.labels)


KIND = WidgetKind()


def _form(name: str, shape: str, color: str, token: str | None) -> Normalized:
    """The compared fields; the token (masked by the API) only as a secret."""
    form: dict[str, Any] = {"name": name, "shape": shape, "color": color}
    if token is None:
        return Normalized(form, ())
    return Normalized({**form, "token": SENSITIVE}, (("token", token),))


class AcmeLoader:
    """The ``acme:`` section: widgets and reports of the one Acme account."""

    def __init__(self) -> None:
        self.widgets: list[WidgetSpec] = []
        self.reports: list[SnapshotSpec] = []
        self.location: SourceLocation | None = None

    def load(self, doc: YamlDocument, root: Mapping[str, Any], context: LoadContext) -> None:
        section = root.get(NAME)
        for problem in check(_CHECKER, section):
            context.report(doc, (NAME, *problem.path), problem.message, key=problem.at_key)
        if not isinstance(section, dict) or context.has_problems:
            return
        self.location = self.location or doc.at((NAME,))
        for index, item in enumerate(section.get("widgets", [])):
            resolved, refs = context.resolve_env(Entry(doc, (NAME, "widgets", index), item))
            self.widgets.append(
                WidgetSpec(
                    resolved["key"],
                    resolved["name"],
                    resolved["shape"],
                    resolved.get("color", "grey"),
                    resolved.get("token"),
                    resolved.get("protect", False),
                    freeze(refs),
                    doc.at((NAME, "widgets", index)),
                )
            )
        for index, item in enumerate(section.get("reports", [])):
            self.reports.append(
                SnapshotSpec(
                    item["key"],
                    "report",
                    freeze({"query": item["query"]}),
                    max_age_s=item.get("max_age_s"),
                    keep=item.get("keep"),
                    location=doc.at((NAME, "reports", index)),
                )
            )

    def scopes(self) -> tuple[ScopeSpec, ...]:
        found = []
        if self.widgets:
            found.append(ScopeSpec(WIDGETS, tuple(self.widgets), location=self.location, kind=KIND))
        if self.reports:
            found.append(ScopeSpec(REPORTS, snapshots=tuple(self.reports), location=self.location))
        return tuple(found)


# -- the provider ------------------------------------------------------------------


class AcmeProvider:
    """Both kinds over ``API``: a ResourceProvider and a SnapshotProvider."""

    def __init__(self, api: AcmeApi) -> None:
        self.api = api

    @property
    def endpoint(self) -> str:
        return "acme://in-memory"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    async def list(self, scope: Scope, *, ids_from: IdsFrom = "manifest") -> LiveScope:
        if scope.kind == "widgets":
            widgets = [
                ListedWidget(i, w["name"], w["shape"], w["color"], freeze(w["labels"]),
                             "****" if w.get("token") else None)
                for i, w in sorted(self.api.widgets.items(), key=lambda item: int(item[0]))
            ]  # fmt: skip
            return LiveScope(scope, tuple(widgets))
        runs = [
            LiveRun(i, freeze({"query": r["query"]}), r["state"], self.api.now - r["at"])
            for i, r in self.api.runs.items()
        ]
        return LiveScope(scope, runs=tuple(runs))

    async def create(
        self, scope: Scope, spec: DesiredResource, *, salt: str, dry_run: bool = False
    ) -> Written:
        assert isinstance(spec, WidgetSpec)
        if dry_run:
            return Written()
        widget_id = self.api.new_id()
        self.api.widgets[widget_id] = self._stored(spec, salt)
        return Written(resource_id=widget_id)

    async def update(
        self,
        scope: Scope,
        spec: DesiredResource,
        live: ListedResource,
        *,
        salt: str,
        dry_run: bool = False,
    ) -> Written:
        assert isinstance(spec, WidgetSpec)
        if not dry_run:
            self.api.widgets[live.resource_id] = self._stored(spec, salt)
        return Written(resource_id=live.resource_id)

    def _stored(self, spec: WidgetSpec, salt: str) -> dict[str, Any]:
        marker = marker_for(spec.key, spec.protect, KIND.normalize_desired(spec), salt)
        return {
            "name": spec.name,
            "shape": spec.shape,
            "color": spec.color,
            "token": spec.token,
            "labels": {MARKER_FIELD: marker},
        }

    async def delete(self, scope: Scope, live: ListedResource | LiveRun, *, key: str) -> Written:
        store = self.api.runs if isinstance(live, LiveRun) else self.api.widgets
        store.pop(live.run_id if isinstance(live, LiveRun) else live.resource_id)
        return Written()

    async def follow_ups(
        self,
        scope: Scope,
        spec: DesiredResource,
        resource_id: str,
        written: Written | None,
        live: ListedResource | None,
    ) -> Sequence[FollowUp]:
        return ()

    async def run(self, scope: Scope, snapshot: SnapshotSpec) -> Written:
        run_id = self.api.new_id()
        query = thaw(snapshot.request)["query"]
        self.api.runs[run_id] = {"query": query, "state": RunState.RUNNING, "at": self.api.now}
        return Written(resource_id=run_id, job_id=run_id)

    async def poll_jobs(self, job_ids: Sequence[str]) -> Sequence[JobState]:
        states = []
        for run_id in job_ids:
            run = self.api.runs.get(run_id)
            if run is not None:
                run["state"] = RunState.SUCCEEDED  # every report finishes by the next poll
                states.append(JobState(run_id, "succeeded", True, resource_id=run_id))
        return states

    async def download(
        self, scope: Scope, snapshot: SnapshotSpec, run_id: str, destination: Path
    ) -> int:
        data = f"report {run_id}\n".encode()
        destination.write_bytes(data)
        return len(data)


class AcmeFactory:
    """The registry's entry for Acme, as a third party's package would define it."""

    name = NAME
    sections = (NAME,)
    scope_selector = None
    type_selector = "shape"
    types = SHAPES
    selector_forms = ("shape=SHAPE",)
    import_command = None

    def open(
        self, connection: Connection, desired: DesiredState, scopes: Iterable[Scope] = ()
    ) -> AcmeProvider:
        return AcmeProvider(API)

    def match_scope(self, value: str) -> ScopeMatch:
        raise ValueError("acme has no scope selector")

    def section_loader(self) -> AcmeLoader:
        return AcmeLoader()

    def schema_parts(self) -> SchemaParts:
        return SchemaParts({NAME: SECTION_SCHEMA}, {})

    def type_schema(self, type_name: str) -> dict[str, Any] | None:
        return None

    def sandbox(
        self, db_path: Path, config: Any, clock: Any, seed_file: Path | None
    ) -> SandboxPart:
        raise NotImplementedError("acme has no sandbox server; its API is in memory")


FACTORY = AcmeFactory()
