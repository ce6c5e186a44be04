"""The seam: what exportctl's core asks of a platform's API, and nothing more.

The planner, applier, renderers and CLI talk to a platform only through a
``Provider``. It lists the live resources of a scope, writes them (with a
server-side dry run where the API has one), deletes them and reports on its
own background jobs. How it does so (paths, auth headers, bodies, where the
marker is stored, how a job names the resource it made) is the provider's
business, so adding a platform adds a package under ``reconciler/providers/``
and changes nothing here.

What the core keeps for itself, because every API needs it the same way:
retrying a write whose answer was lost only after looking at the live state
(``apply.landed``), one poll loop for every pending job (``apply.jobs``),
the order of steps, safety rules and reporting. A provider signals a lost
answer with ``errors.MaybeLandedError`` and a failed write with
``errors.ApiError`` (``JobFailedError`` for a job that failed), so the core
can tell them apart whatever the platform.

See ``docs/providers.md`` for how to write one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, Self, TypeVar, runtime_checkable

from reconciler.model import (
    DesiredResource,
    DesiredState,
    ListedResource,
    LiveRun,
    LiveScope,
    Scope,
    SnapshotSpec,
)

if TYPE_CHECKING:
    from reconciler.manifest.sections import SectionLoader
    from reconciler.sandbox.clock import SandboxClock
    from reconciler.sandbox.config import SandboxConfig

__all__ = [
    "ClientBacked",
    "Connection",
    "FollowUp",
    "IdsFrom",
    "JobState",
    "Provider",
    "ProviderFactory",
    "Providers",
    "ResourceProvider",
    "SandboxPart",
    "SchemaParts",
    "ScopeMatch",
    "SnapshotProvider",
    "Written",
]


class EndpointClient(AbstractAsyncContextManager[Any], Protocol):
    """What ``ClientBacked`` needs of its client: an async context, and where it points."""

    @property
    def endpoint(self) -> str: ...


ClientT = TypeVar("ClientT", bound=EndpointClient)

# Where the scope addresses a listing uses were written: what a 404 tells to check.
IdsFrom = Literal["manifest", "command line"]


@dataclass(frozen=True)
class JobState:
    """One background job as its provider reads it.

    ``failure`` is the server's reason when the job failed (``None`` while it
    runs or after it succeeded); ``resource_id`` is the resource it made or
    changed, when the job says so. ``note`` is what a finished run produced,
    in words (Domo: where the files went, how many rows), added to the line
    that reports the step.
    """

    job_id: str
    status: str
    finished: bool
    failure: str | None = None
    resource_id: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Written:
    """What a create, update or delete answered.

    ``job_id`` is set when the API works in the background; ``job`` when the
    answer already carries that job's final state. ``status`` is the
    resource's own status from a direct answer (not a job's status).
    """

    resource_id: str | None = None
    job_id: str | None = None
    job: JobState | None = None
    status: str | None = None
    # The server confirmed it runs this write once (it echoed an idempotency
    # key): an earlier send of it whose answer was lost made no copy.
    once: bool = False


@dataclass(frozen=True)
class FollowUp:
    """A further write a provider needs after a create or update.

    Some settings cannot be sent with the resource itself (Mammoth suspends
    and restores an export with separate calls). The core sends ``send``
    through its own lost-answer rule: when an answer is lost, ``landed`` says
    whether the follow-up took effect anyway. ``note`` is added to the line
    that reports the step.
    """

    what: str
    send: Callable[[], Awaitable[Written]]
    landed: Callable[[], Awaitable[bool]]
    note: str


class Provider(Protocol):
    """An open connection to one platform's API; use it with ``async with``.

    What every provider does: list a scope, delete, report on its jobs. A
    provider of declarative resources is also a ``ResourceProvider``, one of
    snapshots a ``SnapshotProvider`` (a platform with both kinds is both).
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    @property
    def endpoint(self) -> str:
        """Where its API is, as shown to a user (a base URL without credentials).

        A saved plan records it, so that apply writes where the plan was reviewed.
        """
        ...

    async def list(self, scope: Scope, *, ids_from: IdsFrom = "manifest") -> LiveScope:
        """Every live resource (or run) of ``scope``, including ones the API marks deleted."""
        ...

    async def delete(self, scope: Scope, live: ListedResource | LiveRun, *, key: str) -> Written:
        """Delete a resource or a run; ``errors.NotFoundError`` when it is already gone."""
        ...

    async def poll_jobs(self, job_ids: Sequence[str]) -> Sequence[JobState]:
        """The current state of these jobs (unknown ids are left out).

        For a snapshot kind a job is a run: ``run`` answers with its id to poll.
        """
        ...


@runtime_checkable
class ResourceProvider(Provider, Protocol):
    """A provider of declarative resources: create and update, with dry runs."""

    async def create(
        self, scope: Scope, spec: DesiredResource, *, salt: str, dry_run: bool = False
    ) -> Written:
        """Create ``spec`` with its marker (salted with ``salt``); ``dry_run`` only validates."""
        ...

    async def update(
        self,
        scope: Scope,
        spec: DesiredResource,
        live: ListedResource,
        *,
        salt: str,
        dry_run: bool = False,
    ) -> Written:
        """Make ``live`` match ``spec`` and carry its marker; ``dry_run`` only validates."""
        ...

    async def follow_ups(
        self,
        scope: Scope,
        spec: DesiredResource,
        resource_id: str,
        written: Written | None,
        live: ListedResource | None,
    ) -> Sequence[FollowUp]:
        """The writes still needed after ``spec`` was created or updated (often none).

        ``written`` is the answer (``None`` when a lost answer was confirmed by a
        listing); ``live`` the resource as it was before an update.
        """
        ...


@runtime_checkable
class SnapshotProvider(Provider, Protocol):
    """A provider of snapshots: start a run, fetch its artifact."""

    async def run(self, scope: Scope, snapshot: SnapshotSpec) -> Written:
        """Start a run of ``snapshot``; ``job_id`` is what ``poll_jobs`` follows.

        An API that answers "already running" (or "unchanged, here is the last
        one") answers with that run instead of an error.
        """
        ...

    async def download(
        self, scope: Scope, snapshot: SnapshotSpec, run_id: str, destination: Path
    ) -> int:
        """Write the artifact of a finished run to ``destination`` atomically; its size."""
        ...


class Providers:
    """The open providers of one command, by registry name: whom to ask about a scope.

    Job ids are a provider's own, so jobs are always followed through the
    provider that started them.
    """

    def __init__(self, opened: Mapping[str, Provider], sandbox: str | None = None) -> None:
        """``sandbox`` is the embedded sandbox's database, when the providers are its."""
        self._opened = dict(opened)
        self._sandbox = sandbox

    def __iter__(self) -> Iterator[str]:
        return iter(self._opened)

    def named(self, name: str) -> Provider:
        return self._opened[name]

    def endpoints(self) -> dict[str, str]:
        """Each open provider's ``endpoint``, by registry name.

        Every embedded sandbox answers at the same made-up URL, so there the
        database names the place: a plan made in one is not applied to another.
        """
        if self._sandbox is not None:
            where = f"the embedded sandbox {Path(self._sandbox).resolve()}"
            return dict.fromkeys(self._opened, where)
        return {name: provider.endpoint for name, provider in self._opened.items()}

    def of(self, scope: Scope) -> Provider:
        return self._opened[scope.provider]

    def resources(self, scope: Scope) -> ResourceProvider:
        """The provider of ``scope``'s declarative resources."""
        provider = self.of(scope)
        if not isinstance(provider, ResourceProvider):
            raise TypeError(f"provider {scope.provider!r} has no declarative resources")
        return provider

    def snapshots(self, scope: Scope) -> SnapshotProvider:
        """The provider of ``scope``'s snapshots."""
        provider = self.of(scope)
        if not isinstance(provider, SnapshotProvider):
            raise TypeError(f"provider {scope.provider!r} has no snapshots")
        return provider


class ClientBacked(Generic[ClientT]):
    """The base of a provider that opens and closes with its API client.

    ``on_close`` runs after the client closed, whatever happened (the embedded
    sandbox closes its database there).
    """

    def __init__(self, client: ClientT, on_close: Callable[[], None] | None = None) -> None:
        self.client = client
        self._on_close = on_close

    @property
    def endpoint(self) -> str:
        return self.client.endpoint

    async def __aenter__(self) -> Self:
        await self.client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.client.__aexit__(exc_type, exc, traceback)
        finally:
            if self._on_close is not None:
                self._on_close()


@dataclass(frozen=True)
class Connection:
    """Where to connect, as the command-line options say.

    ``endpoint`` overrides the provider's base URL; ``sandbox_db`` asks for the
    embedded sandbox instead of the real API; ``parallelism`` bounds the
    requests in flight. Credentials never come from here: each provider reads
    its own environment variables.
    """

    endpoint: str | None = None
    sandbox_db: str | None = None
    parallelism: int = 8


@dataclass(frozen=True)
class SandboxPart:
    """One provider's share of ``exportctl sandbox serve`` (and of the test servers).

    ``app`` is an ASGI app answering the absolute paths that start with one
    of ``prefixes`` (its API's real prefix, and its admin routes under
    ``/_sandbox/<name>``); ``describe`` says, for the server's root URL, where
    the API is and which credentials it accepts (never their values);
    ``close`` releases its database.
    """

    prefixes: tuple[str, ...]
    app: Any
    describe: Callable[[str], str]
    close: Callable[[], None]


@dataclass(frozen=True)
class SchemaParts:
    """A provider's sections of the manifest schema, self-contained.

    ``properties`` are the top-level sections it owns; ``defs`` the
    definitions they refer to (``#/$defs/...``). Definition names must not
    collide with another provider's: ``exportctl schema`` refuses to bundle
    two providers that use one name.
    """

    properties: Mapping[str, Any]
    defs: Mapping[str, Any]


@dataclass(frozen=True)
class ScopeMatch:
    """What a provider's scope selector (``dataview=456/monthly-sales``) names."""

    matches: Callable[[Scope], bool]
    key: str | None = None  # one entry of the scopes, by manifest key


class ProviderFactory(Protocol):
    """What the registry hands out: a provider's name, its manifest section, a way to open it.

    The selector facts let ``--target`` speak the platform's words:
    ``scope_selector`` names its scopes (``dataview``; ``None`` for none) and
    ``match_scope`` reads one (``ValueError`` saying what is wrong);
    ``type_selector`` is its word for ``type=`` (``handler``) with ``types``
    the values it accepts (empty: any); ``selector_forms`` are shown in help
    and errors.
    """

    name: str
    sections: tuple[str, ...]  # the manifest's top-level keys this provider owns
    scope_selector: str | None
    type_selector: str
    types: tuple[str, ...]
    selector_forms: tuple[str, ...]

    def match_scope(self, value: str) -> ScopeMatch:
        """The scopes (and maybe the key) a ``scope_selector=VALUE`` names."""
        ...

    def section_loader(self) -> SectionLoader:
        """A fresh reader of this provider's sections, for one manifest load."""
        ...

    def schema_parts(self) -> SchemaParts:
        """Its sections of the manifest schema, for ``exportctl schema`` and editors."""
        ...

    def type_schema(self, type_name: str) -> dict[str, Any] | None:
        """The schema of one type's settings (Mammoth: a handler's target), if it has one."""
        ...

    def sandbox(
        self, db_path: Path, config: SandboxConfig, clock: SandboxClock, seed_file: Path | None
    ) -> SandboxPart:
        """Its sandbox API over ``db_path`` (its own file), sharing faults and clock.

        ``seed_file`` is the ``--seed`` YAML; a provider reads the keys it owns.
        """
        ...

    import_command: str | None  # "module:attribute" of its `exportctl import NAME` command

    def open(
        self, connection: Connection, desired: DesiredState, scopes: Iterable[Scope] = ()
    ) -> Provider:
        """An unopened provider for ``connection``.

        ``desired`` and ``scopes`` let the embedded sandbox create what the
        manifest (or a command line) names before the first request.
        """
        ...
