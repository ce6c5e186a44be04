"""Mammoth Analytics behind the provider seam: dataview pipeline exports.

Scopes are dataviews; resources are their exports. Writes go out as
``AddExportSpec`` bodies (``wire``), an edit being a POST with ``TRIGGER_ID``;
a 202 answer is a job (``jobs``). Suspending and restoring an export are
separate PATCH calls, so they come back to the core as follow-ups after the
write that set everything else. Every write carries an ``Idempotency-Key``
derived from the change (``change_key``): the same change sends the same key
from any process, so a server that honours keys runs it once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from reconciler.identity import secrets_stand_in
from reconciler.manifest.sections import SectionLoader
from reconciler.model import (
    DesiredResource,
    DesiredState,
    ListedResource,
    LiveRun,
    LiveScope,
    Scope,
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
from reconciler.providers.mammoth import handlers
from reconciler.providers.mammoth.client import MammothClient, MutationResult
from reconciler.providers.mammoth.connect import open_client
from reconciler.providers.mammoth.handlers import HANDLER_TYPES
from reconciler.providers.mammoth.idempotency import change_key
from reconciler.providers.mammoth.jobs import job_state, text_id
from reconciler.providers.mammoth.kind import EXPORTS
from reconciler.providers.mammoth.manifest import (
    DATAVIEWS_SECTION,
    DEFAULTS_SECTION,
    DataviewsLoader,
    manifest_schema_parts,
)
from reconciler.providers.mammoth.model import (
    PROVIDER,
    DataviewRef,
    ExportSpec,
    LiveExport,
    is_suspended_status,
    live_dataview,
)
from reconciler.providers.mammoth.wire import add_body, edit_body
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig

__all__ = ["FACTORY", "MammothProvider", "as_written", "connection_ids"]


def _spec(spec: DesiredResource) -> ExportSpec:
    if not isinstance(spec, ExportSpec):
        raise TypeError(f"Mammoth was handed a {type(spec).__name__}, not an export")
    return spec


def _live(live: ListedResource | LiveRun) -> LiveExport:
    if not isinstance(live, LiveExport):
        raise TypeError(f"Mammoth was handed a {type(live).__name__}, not a listed export")
    return live


def _job_ids(job_ids: Sequence[str]) -> list[int]:
    return [int(job_id) for job_id in job_ids if job_id.isdigit()]


class MammothProvider(ClientBacked[MammothClient]):
    """The ``ResourceProvider`` for one Mammoth API (or the embedded sandbox's).

    The core hands back the scopes and resources this provider made; each
    method narrows them to Mammoth's own types first.
    """

    async def list(self, scope: Scope, *, ids_from: IdsFrom = "manifest") -> LiveScope:
        ref = DataviewRef.of(scope)
        return live_dataview(ref, await self.client.list_exports(ref, ids_from=ids_from))

    async def create(
        self, scope: Scope, spec: DesiredResource, *, salt: str, dry_run: bool = False
    ) -> Written:
        export, ref = _spec(spec), DataviewRef.of(scope)
        body = add_body(export, salt=salt, validate_only=dry_run)
        keyed = _key(ref, export, "validate-add" if dry_run else "add", None)
        answer = await self.client.add_export(ref, body, key=spec.key, idempotency_key=keyed)
        return as_written(answer)

    async def update(
        self,
        scope: Scope,
        spec: DesiredResource,
        live: ListedResource,
        *,
        salt: str,
        dry_run: bool = False,
    ) -> Written:
        export, listed = _spec(spec), _live(live)
        body = edit_body(export, salt=salt, validate_only=dry_run, live=listed)
        ref = DataviewRef.of(scope)
        keyed = _key(ref, export, "validate-edit" if dry_run else "edit", listed.id)
        answer = await self.client.edit_export(
            ref, listed.id, body, key=spec.key, idempotency_key=keyed
        )
        return as_written(answer)

    async def delete(self, scope: Scope, live: ListedResource | LiveRun, *, key: str) -> Written:
        ref, export_id = DataviewRef.of(scope), _live(live).id
        keyed = change_key(str(ref), key, "delete", export_id)
        answer = await self.client.delete_export(ref, export_id, key=key, idempotency_key=keyed)
        return as_written(answer)

    async def poll_jobs(self, job_ids: Sequence[str]) -> Sequence[JobState]:
        return [job_state(record) for record in await self.client.get_jobs(_job_ids(job_ids))]

    async def follow_ups(
        self,
        scope: Scope,
        spec: DesiredResource,
        resource_id: str,
        written: Written | None,
        live: ListedResource | None,
    ) -> Sequence[FollowUp]:
        """A suspend or restore when the export is not yet in the state the manifest asks."""
        export = _spec(spec)
        was_suspended = _live(live).suspended if live is not None else False
        if not (export.suspended or was_suspended):
            return ()  # never suspended, not wanted suspended: nothing to look at
        ref, export_id = DataviewRef.of(scope), int(resource_id)
        if written is not None and written.status is not None:
            now = is_suspended_status(written.status)
        else:
            now = bool(await self._suspended(ref, export_id))
        if now == export.suspended:
            return ()
        path = "suspend" if export.suspended else "restore"

        keyed = change_key(str(ref), spec.key, path, export_id)

        async def send() -> Written:
            answer = await self.client.patch_export(
                ref, export_id, path, key=spec.key, idempotency_key=keyed
            )
            return as_written(answer)

        async def landed() -> bool:
            return await self._suspended(ref, export_id) == export.suspended

        note = ", suspended" if export.suspended else ", restored"
        return (FollowUp(f"{path} {spec.key}", send, landed, note),)

    async def _suspended(self, ref: DataviewRef, export_id: int) -> bool | None:
        """The export's suspended state now, or ``None`` if it is not there."""
        for export in live_dataview(ref, await self.client.list_exports(ref)).present():
            if isinstance(export, LiveExport) and export.id == export_id:
                return export.suspended
        return None


def _key(ref: DataviewRef, export: ExportSpec, action: str, target_id: int | None) -> str:
    """The key of writing ``export``: its normalized form, and its secret values
    as a stand-in that does not let a reader of the header test guesses."""
    desired = EXPORTS.normalize_desired(export)
    secrets = secrets_stand_in(desired, f"idempotency:{ref}")
    return change_key(str(ref), export.key, action, target_id, [desired.form, secrets])


def as_written(result: MutationResult) -> Written:
    """A client answer as the core reads it.

    A job answered as already successful is carried along, so the core need
    not poll for it; the export's own status is kept only from a direct
    answer (a job's status is not the export's).
    """
    job = result.body.get("job") if isinstance(result.body, dict) else None
    finished = job_state(job) if result.status == "success" and isinstance(job, dict) else None
    return Written(
        resource_id=text_id(result.trigger_id),
        job_id=text_id(result.job_id),
        job=finished if result.job_id is not None else None,
        status=result.status if result.job_id is None else None,
        once=result.once,
    )


def connection_ids(desired: DesiredState) -> list[str]:
    """Database connection ids the manifest uses, for the embedded sandbox to know."""
    ids = {
        str(spec.target_properties["connection_id"])
        for scope_spec in desired.scopes
        if scope_spec.scope.provider == PROVIDER
        for spec in scope_spec.resources
        if isinstance(spec, ExportSpec) and spec.target_properties.get("connection_id") is not None
    }
    return sorted(ids)


class _Factory:
    """Opens a ``MammothProvider``; the registry's entry for Mammoth."""

    name = PROVIDER
    sections = (DATAVIEWS_SECTION, DEFAULTS_SECTION)
    scope_selector = "dataview"
    type_selector = "handler"
    types = HANDLER_TYPES
    selector_forms = (
        "dataview=ID",
        "dataview=W/P/D/V",
        "dataview=ID/KEY",
        "dataview=W/P/D/V/KEY",
        "handler=TYPE",
    )

    def match_scope(self, value: str) -> ScopeMatch:
        """``ID`` (any workspace) or ``W/P/D/V``, each optionally followed by ``/KEY``."""
        parts = value.split("/")
        ids, key = (parts[:-1], parts[-1]) if len(parts) in (2, 5) else (parts, None)
        if len(ids) not in (1, 4) or not all(p.isdigit() for p in ids) or key == "":
            raise ValueError("a dataview is an id or W/P/D/V ids, optionally followed by /KEY")
        if len(ids) == 1:
            dataview_id = int(ids[0])
            return ScopeMatch(lambda s: DataviewRef.of(s).dataview_id == dataview_id, key)
        ref = DataviewRef.parse("/".join(ids))
        return ScopeMatch(lambda s: DataviewRef.of(s) == ref, key)

    import_command = "reconciler.providers.mammoth.import_cmd:import_"

    def section_loader(self) -> SectionLoader:
        return DataviewsLoader()

    def schema_parts(self) -> SchemaParts:
        return manifest_schema_parts()

    def type_schema(self, type_name: str) -> dict[str, Any] | None:
        return handlers.target_schema(type_name) if type_name in HANDLER_TYPES else None

    def sandbox(
        self, db_path: Path, config: SandboxConfig, clock: SandboxClock, seed_file: Path | None
    ) -> SandboxPart:
        """Mammoth's API over ``db_path`` itself (the sandbox file of earlier versions)."""
        from reconciler.providers.mammoth.sandbox.part import sandbox_part

        return sandbox_part(db_path, config, seed_file)

    def open(
        self, connection: Connection, desired: DesiredState, scopes: Iterable[Scope] = ()
    ) -> Provider:
        mine = [s.scope for s in desired.scopes if s.scope.provider == PROVIDER]
        client = open_client(
            endpoint=connection.endpoint,
            sandbox_db=connection.sandbox_db,
            parallelism=connection.parallelism,
            dataviews=[DataviewRef.of(scope) for scope in [*mine, *scopes]],
            sandbox_connections=connection_ids(desired),
        )
        return MammothProvider(client)


FACTORY = _Factory()
