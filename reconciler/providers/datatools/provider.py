"""data-tools behind the provider seam: export templates (declarative) and export jobs (snapshots).

One user's templates are one scope (``templates``), their export jobs another
(``snapshots``), both addressed by the username that logs in. Templates are
written with their marker in ``configuration.exportctl``; a job is a run of
a snapshot, found again by its normalized request. What to run, wait for or
prune is the core's snapshot planner's decision; this module only lists,
writes and reads.

A job that failed is never retried on the server (its retry action resets
the job and never runs it): the core plans a new run, which is a new job.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.errors import NotFoundError
from reconciler.manifest.sections import SectionLoader
from reconciler.model import (
    DesiredResource,
    DesiredState,
    ListedResource,
    LiveRun,
    LiveScope,
    Scope,
    SnapshotSpec,
)
from reconciler.providers.base import (
    ClientBacked,
    Connection,
    FollowUp,
    IdsFrom,
    JobState,
    Provider,
    SandboxPart,
    SchemaParts,
    ScopeMatch,
    Written,
)
from reconciler.providers.datatools.client import DatatoolsClient, connect
from reconciler.providers.datatools.kind import as_spec, as_template
from reconciler.providers.datatools.manifest import (
    NAME,
    TEMPLATES_KIND,
    DatatoolsLoader,
    schema_parts,
)
from reconciler.providers.datatools.section import SECTION
from reconciler.providers.datatools.settings import DEFAULT_PREFIX, DatatoolsSettings
from reconciler.providers.datatools.snapshots import SnapshotRequest, failure_reason, live_run
from reconciler.providers.datatools.templates import create_body, template_marker, update_body
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig

__all__ = ["FACTORY", "DatatoolsProvider"]

# The in-process sandbox needs a URL; nothing resolves or connects to this host.
SANDBOX_URL = "http://sandbox.invalid"
_FINISHED = ("completed", "failed", "cancelled", "expired")


class DatatoolsProvider(ClientBacked[DatatoolsClient]):
    """The ``ResourceProvider`` and ``SnapshotProvider`` of one data-tools site, as one user.

    ``close`` releases what the embedded sandbox holds (its database), after
    the client is closed.
    """

    async def list(self, scope: Scope, *, ids_from: IdsFrom = "manifest") -> LiveScope:
        """The user's own templates by id, or every job of theirs aged by the server's clock.

        Other users' system and shared templates, which the API lists too, are left out.
        """
        if scope.kind == TEMPLATES_KIND:
            own = await self.client.list_own_templates()
            return LiveScope(scope, resources=tuple(sorted(own, key=lambda t: t.resource_id)))
        listing = await self.client.list_jobs()
        runs = tuple(live_run(job, listing.server_time) for job in listing.jobs)
        return LiveScope(scope, runs=runs)

    async def create(
        self, scope: Scope, spec: DesiredResource, *, salt: str, dry_run: bool = False
    ) -> Written:
        """POST the template with its marker.

        data-tools has no dry run: with ``dry_run`` nothing is sent, the
        manifest's checks (its schema) being all the validation there is.
        """
        template = as_spec(spec)
        if dry_run:
            return Written()
        body = create_body(template, template_marker(template, salt))
        created = await self.client.create_template(body, key=spec.key)
        return Written(resource_id=created.id)

    async def update(
        self,
        scope: Scope,
        spec: DesiredResource,
        live: ListedResource,
        *,
        salt: str,
        dry_run: bool = False,
    ) -> Written:
        """PUT the template with its marker (``dry_run``: nothing is sent, as for ``create``)."""
        template, listed = as_spec(spec), as_template(live)
        if dry_run:
            return Written(resource_id=listed.id)
        body = update_body(template, template_marker(template, salt))
        updated = await self.client.update_template(listed.id, body, key=spec.key)
        return Written(resource_id=updated.id)

    async def follow_ups(
        self,
        scope: Scope,
        spec: DesiredResource,
        resource_id: str,
        written: Written | None,
        live: ListedResource | None,
    ) -> Sequence[FollowUp]:
        """None: a template is written whole by one request."""
        return ()

    async def delete(self, scope: Scope, live: ListedResource | LiveRun, *, key: str) -> Written:
        """Delete a template, or a finished job and its file."""
        if isinstance(live, LiveRun):
            await self.client.delete_job(live.run_id, key=key)
            return Written(resource_id=live.run_id)
        template = as_template(live)
        await self.client.delete_template(template.id, key=key)
        return Written(resource_id=template.id)

    async def run(self, scope: Scope, snapshot: SnapshotSpec) -> Written:
        """Start a new export job; its id is the run the core polls."""
        request = SnapshotRequest.of(snapshot.request)
        job = await self.client.create_job(request, key=snapshot.key)
        return Written(resource_id=job.id, job_id=job.id)

    async def poll_jobs(self, job_ids: Sequence[str]) -> Sequence[JobState]:
        states = []
        for job_id in job_ids:
            try:
                job = await self.client.get_job(job_id)
            except NotFoundError:
                continue  # unknown ids are left out
            finished = job.status in _FINISHED
            states.append(JobState(job.id, job.status, finished, failure_reason(job), job.id))
        return states

    async def download(
        self, scope: Scope, snapshot: SnapshotSpec, run_id: str, destination: Path
    ) -> int:
        return await self.client.download_job(run_id, destination, key=snapshot.key)


def _sandbox_provider(
    db: str, connection: Connection, desired: DesiredState, env: Mapping[str, str]
) -> DatatoolsProvider:
    """The embedded sandbox in this process, over its own file beside ``--sandbox``'s."""
    # Imported here: the sandbox (starlette, sqlite) is not needed against the real API.
    from reconciler.providers.datatools.sandbox.app import create_app, sandbox_service
    from reconciler.sandbox.files import provider_file
    from reconciler.sandbox.transport import in_process_transport

    path = provider_file(Path(db), NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    app = create_app(path, config=SandboxConfig(), environ=env)
    service = sandbox_service(app)
    service.ensure_datasources(_datasources(desired))
    settings = DatatoolsSettings(
        SANDBOX_URL,
        DEFAULT_PREFIX.strip("/") + "/",
        service.login_user,
        env.get("DATATOOLS_PASSWORD") or "sandbox",
    )
    client = DatatoolsClient(
        settings, transport=in_process_transport(app), parallelism=connection.parallelism
    )
    return DatatoolsProvider(client, service.store.close)


def _datasources(desired: DesiredState) -> list[str]:
    """The datasource ids the manifest's snapshots export, for the embedded sandbox."""
    return sorted(
        {
            str(snapshot.request["datasource"])
            for spec in desired.scopes
            if spec.scope.provider == NAME
            for snapshot in spec.snapshots
        }
    )


class _Factory:
    """Opens a ``DatatoolsProvider``; the registry's entry for data-tools."""

    name = NAME
    sections = (SECTION,)
    scope_selector = None
    type_selector = "type"  # a template's template_type, a snapshot's format
    types = ("user", "shared", "system", "csv", "json", "parquet", "excel")
    selector_forms = ("provider=datatools", "key=KEY", "type=TEMPLATE_TYPE|FORMAT")
    import_command = "reconciler.providers.datatools.import_cmd:import_"

    def match_scope(self, value: str) -> ScopeMatch:
        raise ValueError("data-tools scopes have no selector; use provider=datatools or key=KEY")

    def section_loader(self) -> SectionLoader:
        return DatatoolsLoader()

    def schema_parts(self) -> SchemaParts:
        return schema_parts()

    def type_schema(self, type_name: str) -> dict[str, Any] | None:
        return None

    def sandbox(
        self, db_path: Path, config: SandboxConfig, clock: SandboxClock, seed_file: Path | None
    ) -> SandboxPart:
        """The data-tools site over its own file beside ``db_path``, on the shared clock.

        A new database is seeded from ``seed_file``'s ``datatools:`` key, or with the
        built-in seed (users, datasources, other users' templates) when it has none.
        """
        from reconciler.providers.datatools.sandbox.app import (
            ADMIN_PREFIX,
            API_PREFIX,
            LOGIN_PATH,
            create_app,
            sandbox_service,
        )
        from reconciler.sandbox.files import provider_file

        app = create_app(
            provider_file(db_path, NAME), config=config, clock=clock, seed_file=seed_file
        )
        service = sandbox_service(app)
        source = (
            "DATATOOLS_USERNAME/DATATOOLS_PASSWORD"
            if os.environ.get("DATATOOLS_USERNAME")
            else "the default sandbox/sandbox (DATATOOLS_USERNAME/DATATOOLS_PASSWORD unset)"
        )

        def describe(root_url: str) -> str:
            return (
                f"data-tools site on {root_url} (DATATOOLS_BASE_URL={root_url}; API under "
                f"{API_PREFIX}/, login at {LOGIN_PATH}; user {service.login_user!r}, "
                f"credentials from {source})"
            )

        prefixes = (LOGIN_PATH.rstrip("/"), API_PREFIX, ADMIN_PREFIX)
        return SandboxPart(prefixes, app, describe, service.store.close)

    def open(
        self, connection: Connection, desired: DesiredState, scopes: Iterable[Scope] = ()
    ) -> Provider:
        env = os.environ
        if connection.sandbox_db is not None:
            return _sandbox_provider(connection.sandbox_db, connection, desired, env)
        client = connect(env, endpoint=connection.endpoint, parallelism=connection.parallelism)
        return DatatoolsProvider(client)


FACTORY = _Factory()
