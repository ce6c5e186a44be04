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

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Protocol, Self

from reconciler.model import DataviewRef, DesiredState, ExportSpec, LiveDataview, LiveExport

__all__ = [
    "Connection",
    "FollowUp",
    "IdsFrom",
    "JobState",
    "Provider",
    "ProviderFactory",
    "Written",
]

# Where the scope addresses a listing uses were written: what a 404 tells to check.
IdsFrom = Literal["manifest", "command line"]


@dataclass(frozen=True)
class JobState:
    """One background job as its provider reads it.

    ``failure`` is the server's reason when the job failed (``None`` while it
    runs or after it succeeded); ``resource_id`` is the resource it made or
    changed, when the job says so.
    """

    job_id: int
    status: str
    finished: bool
    failure: str | None = None
    resource_id: int | None = None


@dataclass(frozen=True)
class Written:
    """What a create, update or delete answered.

    ``job_id`` is set when the API works in the background; ``job`` when the
    answer already carries that job's final state. ``status`` is the
    resource's own status from a direct answer (not a job's status).
    """

    resource_id: int | None = None
    job_id: int | None = None
    job: JobState | None = None
    status: str | None = None


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
    """An open connection to one platform's API; use it with ``async with``."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def list(self, scope: DataviewRef, *, ids_from: IdsFrom = "manifest") -> LiveDataview:
        """Every live resource of ``scope``, including ones the API marks deleted."""
        ...

    async def create(
        self, scope: DataviewRef, spec: ExportSpec, *, salt: str, dry_run: bool = False
    ) -> Written:
        """Create ``spec`` with its marker (salted with ``salt``); ``dry_run`` only validates."""
        ...

    async def update(
        self,
        scope: DataviewRef,
        spec: ExportSpec,
        live: LiveExport,
        *,
        salt: str,
        dry_run: bool = False,
    ) -> Written:
        """Make ``live`` match ``spec`` and carry its marker; ``dry_run`` only validates."""
        ...

    async def delete(self, scope: DataviewRef, live: LiveExport, *, key: str) -> Written:
        """Delete ``live``; ``errors.NotFoundError`` when it is already gone."""
        ...

    async def poll_jobs(self, job_ids: Sequence[int]) -> Sequence[JobState]:
        """The current state of these jobs (unknown ids are left out)."""
        ...

    async def follow_ups(
        self,
        scope: DataviewRef,
        spec: ExportSpec,
        resource_id: int,
        written: Written | None,
        live: LiveExport | None,
    ) -> Sequence[FollowUp]:
        """The writes still needed after ``spec`` was created or updated (often none).

        ``written`` is the answer (``None`` when a lost answer was confirmed by a
        listing); ``live`` the resource as it was before an update.
        """
        ...


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


class ProviderFactory(Protocol):
    """What the registry hands out: a provider's name, its manifest section, a way to open it."""

    name: str
    section: str  # the manifest's top-level key this provider owns

    def open(
        self, connection: Connection, desired: DesiredState, scopes: Iterable[DataviewRef] = ()
    ) -> Provider:
        """An unopened provider for ``connection``.

        ``desired`` and ``scopes`` let the embedded sandbox create what the
        manifest (or a command line) names before the first request.
        """
        ...
