"""Mammoth Analytics behind the provider seam: dataview pipeline exports.

Scopes are dataviews; resources are their exports. Writes go out as
``AddExportSpec`` bodies (``wire``), an edit being a POST with ``TRIGGER_ID``;
a 202 answer is a job (``jobs``). Suspending and restoring an export are
separate PATCH calls, so they come back to the core as follow-ups after the
write that set everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Self

from reconciler.model import (
    DataviewRef,
    DesiredState,
    ExportSpec,
    LiveDataview,
    LiveExport,
    is_suspended_status,
)
from reconciler.providers.base import (
    Connection,
    FollowUp,
    IdsFrom,
    JobState,
    Provider,
    Written,
)
from reconciler.providers.mammoth.client import MammothClient, MutationResult
from reconciler.providers.mammoth.connect import open_client
from reconciler.providers.mammoth.jobs import job_state
from reconciler.providers.mammoth.wire import add_body, edit_body

__all__ = ["FACTORY", "MammothProvider", "as_written", "connection_ids"]


class MammothProvider:
    """The ``Provider`` for one Mammoth API (or the embedded sandbox's)."""

    def __init__(self, client: MammothClient) -> None:
        self.client = client

    async def __aenter__(self) -> Self:
        await self.client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.client.__aexit__(exc_type, exc, traceback)

    async def list(self, scope: DataviewRef, *, ids_from: IdsFrom = "manifest") -> LiveDataview:
        records = await self.client.list_exports(scope, ids_from=ids_from)
        return LiveDataview.from_records(scope, records)

    async def create(
        self, scope: DataviewRef, spec: ExportSpec, *, salt: str, dry_run: bool = False
    ) -> Written:
        body = add_body(spec, salt=salt, validate_only=dry_run)
        return as_written(await self.client.add_export(scope, body, key=spec.key))

    async def update(
        self,
        scope: DataviewRef,
        spec: ExportSpec,
        live: LiveExport,
        *,
        salt: str,
        dry_run: bool = False,
    ) -> Written:
        body = edit_body(spec, salt=salt, validate_only=dry_run, live=live)
        return as_written(await self.client.edit_export(scope, live.id, body, key=spec.key))

    async def delete(self, scope: DataviewRef, live: LiveExport, *, key: str) -> Written:
        return as_written(await self.client.delete_export(scope, live.id, key=key))

    async def poll_jobs(self, job_ids: Sequence[int]) -> Sequence[JobState]:
        return [job_state(record) for record in await self.client.get_jobs(job_ids)]

    async def follow_ups(
        self,
        scope: DataviewRef,
        spec: ExportSpec,
        resource_id: int,
        written: Written | None,
        live: LiveExport | None,
    ) -> Sequence[FollowUp]:
        """A suspend or restore when the export is not yet in the state the manifest asks."""
        was_suspended = live.suspended if live is not None else False
        if not (spec.suspended or was_suspended):
            return ()  # never suspended, not wanted suspended: nothing to look at
        if written is not None and written.status is not None:
            now = is_suspended_status(written.status)
        else:
            now = bool(await self._suspended(scope, resource_id))
        if now == spec.suspended:
            return ()
        path = "suspend" if spec.suspended else "restore"

        async def send() -> Written:
            answer = await self.client.patch_export(scope, resource_id, path, key=spec.key)
            return as_written(answer)

        async def landed() -> bool:
            return await self._suspended(scope, resource_id) == spec.suspended

        note = ", suspended" if spec.suspended else ", restored"
        return (FollowUp(f"{path} {spec.key}", send, landed, note),)

    async def _suspended(self, scope: DataviewRef, export_id: int) -> bool | None:
        """The export's suspended state now, or ``None`` if it is not there."""
        for export in (await self.list(scope)).present():
            if export.id == export_id:
                return export.suspended
        return None


def as_written(result: MutationResult) -> Written:
    """A client answer as the core reads it.

    A job answered as already successful is carried along, so the core need
    not poll for it; the export's own status is kept only from a direct
    answer (a job's status is not the export's).
    """
    job = result.body.get("job") if isinstance(result.body, dict) else None
    finished = job_state(job) if result.status == "success" and isinstance(job, dict) else None
    return Written(
        resource_id=result.trigger_id,
        job_id=result.job_id,
        job=finished if result.job_id is not None else None,
        status=result.status if result.job_id is None else None,
    )


def connection_ids(desired: DesiredState) -> list[str]:
    """Database connection ids the manifest uses, for the embedded sandbox to know."""
    ids = {
        str(spec.target_properties["connection_id"])
        for dv in desired.dataviews
        for spec in dv.exports
        if spec.target_properties.get("connection_id") is not None
    }
    return sorted(ids)


class _Factory:
    """Opens a ``MammothProvider``; the registry's entry for Mammoth."""

    name = "mammoth"
    section = "dataviews"

    def open(
        self, connection: Connection, desired: DesiredState, scopes: Iterable[DataviewRef] = ()
    ) -> Provider:
        client = open_client(
            endpoint=connection.endpoint,
            sandbox_db=connection.sandbox_db,
            parallelism=connection.parallelism,
            dataviews=[*(dv.ref for dv in desired.dataviews), *scopes],
            sandbox_connections=connection_ids(desired),
        )
        return MammothProvider(client)


FACTORY = _Factory()
