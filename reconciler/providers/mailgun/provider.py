"""Mailgun behind the provider seam: exports as snapshots of one account.

The whole ``mailgun:`` section is one scope (exports are account-wide, see
``section``); its runs are the exports of the last 24 hours. The core plans
them (``reconciler.snapshot_planner``) and applies them; this module only
translates: ``run`` is a create (Mailgun's 400 "already processing" comes
back as that export, to wait for), an export's id is its job id, and
``poll_jobs`` reads each export by id. A lost create answer surfaces as
``MaybeLandedError`` from the client, so the core lists before asking again
and an apply never requests two exports of one URL.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from reconciler.errors import ApiError, NotFoundError
from reconciler.manifest.sections import SectionLoader
from reconciler.model import (
    DesiredState,
    ListedResource,
    LiveRun,
    LiveScope,
    RunState,
    Scope,
    SnapshotSpec,
)
from reconciler.providers.base import (
    ClientBacked,
    Connection,
    IdsFrom,
    JobState,
    Provider,
    SandboxPart,
    SchemaParts,
    ScopeMatch,
    Written,
)
from reconciler.providers.mailgun.client import MailgunClient, connect
from reconciler.providers.mailgun.kinds import SNAPSHOT_TYPE, run_state
from reconciler.providers.mailgun.section import PROVIDER, SECTION, MailgunLoader, schema_parts
from reconciler.providers.mailgun.wire import Export
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig

__all__ = ["FACTORY", "MailgunProvider"]

# The in-process sandbox needs a URL; nothing resolves or connects to this host.
SANDBOX_BASE_URL = "http://sandbox.invalid"


def _url(snapshot: SnapshotSpec) -> str:
    return str(snapshot.request["url"])


class MailgunProvider(ClientBacked[MailgunClient]):
    """The ``SnapshotProvider`` for one Mailgun API host (or the embedded sandbox)."""

    async def list(self, scope: Scope, *, ids_from: IdsFrom = "manifest") -> LiveScope:
        """The exports of the last 24 hours, aged by the server's clock."""
        return LiveScope(scope, runs=(await self.client.list_exports()).runs())

    async def run(self, scope: Scope, snapshot: SnapshotSpec) -> Written:
        """Request an export; one already processing for the URL is answered instead."""
        created = await self.client.create_export(_url(snapshot), key=snapshot.key)
        export = created.export or await self._newest(snapshot)
        if export is None:
            return Written()  # the core says the answer named no run
        return Written(resource_id=export.id, job_id=export.id, status=export.status)

    async def _newest(self, snapshot: SnapshotSpec) -> Export | None:
        """The newest export of the URL, for a create answer that named none (the Go
        mock's ``{"message": "success"}``): Mailgun runs one per URL, so it is ours."""
        listing = await self.client.list_exports(_url(snapshot), key=snapshot.key)
        return listing.exports[-1] if listing.exports else None

    async def download(
        self, scope: Scope, snapshot: SnapshotSpec, run_id: str, destination: Path
    ) -> int:
        return await self.client.download(run_id, destination, key=snapshot.key)

    async def delete(self, scope: Scope, live: ListedResource | LiveRun, *, key: str) -> Written:
        """Never planned (the section has no ``keep``): Mailgun cannot delete an export."""
        export_id = live.run_id if isinstance(live, LiveRun) else live.resource_id
        raise ApiError(
            f"Mailgun cannot delete export {export_id} (snapshot key {key!r}): its API has no "
            "delete call; exports expire 24 hours after creation."
        )

    async def poll_jobs(self, job_ids: Sequence[str]) -> Sequence[JobState]:
        """Each export read by id; one gone (expired) before completing has failed."""
        return await asyncio.gather(*(self._job(job_id) for job_id in job_ids))

    async def _job(self, job_id: str) -> JobState:
        try:
            export = await self.client.get_export(job_id)
        except NotFoundError:
            reason = "the export is gone: Mailgun keeps exports for 24 hours"
            return JobState(job_id, "gone", True, reason)
        state = run_state(export.status, None)
        failure = f"Mailgun reports status {export.status!r}" if state is RunState.FAILED else None
        finished = state is not RunState.RUNNING
        return JobState(job_id, export.status, finished, failure, export.id)


class _Factory:
    """Opens a ``MailgunProvider``; the registry's entry for Mailgun."""

    name = PROVIDER
    sections = (SECTION,)
    # One scope per manifest: nothing to select by; key=KEY names a snapshot.
    scope_selector = None
    type_selector = "type"
    types = (SNAPSHOT_TYPE,)
    selector_forms = ("provider=mailgun",)
    import_command = "reconciler.providers.mailgun.import_cmd:import_"

    def match_scope(self, value: str) -> ScopeMatch:
        raise ValueError("Mailgun has one scope, the account: select snapshots with key=KEY")

    def section_loader(self) -> SectionLoader:
        return MailgunLoader()

    def schema_parts(self) -> SchemaParts:
        return schema_parts()

    def type_schema(self, type_name: str) -> dict[str, Any] | None:
        return None  # a snapshot has no settings beyond its entry

    def sandbox(
        self, db_path: Path, config: SandboxConfig, clock: SandboxClock, seed_file: Path | None
    ) -> SandboxPart:
        """Mailgun's API in its own file beside ``db_path``; it reads no seed."""
        from reconciler.providers.mailgun.sandbox.part import sandbox_part

        return sandbox_part(db_path, config, clock)

    def open(
        self, connection: Connection, desired: DesiredState, scopes: Iterable[Scope] = ()
    ) -> Provider:
        if connection.sandbox_db is not None:
            return MailgunProvider(_sandbox_client(connection))
        client = connect(base_url=connection.endpoint, parallelism=connection.parallelism)
        return MailgunProvider(client)


def _sandbox_client(connection: Connection) -> MailgunClient:
    """A client of the embedded sandbox, in process: no server, no credentials needed."""
    from reconciler.providers.mailgun.sandbox.part import DEFAULT_API_KEY, open_in_process

    assert connection.sandbox_db is not None
    transport = open_in_process(Path(connection.sandbox_db), SandboxConfig())
    api_key = os.environ.get("MAILGUN_API_KEY") or DEFAULT_API_KEY
    return MailgunClient(
        SANDBOX_BASE_URL, api_key, transport=transport, parallelism=connection.parallelism
    )


FACTORY = _Factory()
