"""Domo's "Export DataSet to S3" behind the provider seam: a ``SnapshotProvider``.

Scopes are DataSets; their runs are exports. The core plans ``wait`` /
``fresh`` / ``run`` from the listed exports (``kinds.live_run``), and apply
comes back here to start one (``run``) and to follow it (``poll_jobs``). Two
answers of the POST are no new export, and both are told apart by the
client: Domo's previous export when the data did not change (done at once,
and the apply line says so) and another export of the DataSet still running
(followed instead of starting a second one).

Domo reads exports only per DataSet, so the provider remembers which
DataSet each export it has seen belongs to; an export it has not seen is
looked for in every DataSet it was opened with.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.errors import ApiError, ConfigError
from reconciler.manifest.sections import SectionLoader
from reconciler.model import (
    DesiredState,
    FrozenDict,
    ListedResource,
    LiveRun,
    LiveScope,
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
from reconciler.providers.domo.client import DomoClient, StartedExport
from reconciler.providers.domo.connect import BASE_URL_VARIABLE, connect
from reconciler.providers.domo.entries import ExportRequest
from reconciler.providers.domo.kinds import (
    PROVIDER,
    SNAPSHOT_TYPE,
    export_request,
    failure_of,
    live_run,
    outcome_note,
    phase_of,
)
from reconciler.providers.domo.section import (
    SECTION,
    DomoSectionLoader,
    schema_parts,
)
from reconciler.providers.domo.wire import ExportRecord
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig

__all__ = ["FACTORY", "DomoProvider"]


def _dataset(scope: Scope) -> str:
    dataset_id = scope.fields.get("dataset_id", scope.address)
    return str(dataset_id)


class DomoProvider(ClientBacked[DomoClient]):
    """The ``SnapshotProvider`` for one Domo instance (or the embedded sandbox's).

    ``wanted`` are the manifest's requests by DataSet, which a listed export
    is matched against (``kinds.listed_request``); ``on_close`` releases the
    embedded sandbox's database with the client.
    """

    def __init__(
        self,
        client: DomoClient,
        wanted: Mapping[str, Sequence[FrozenDict]],
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(client, on_close)
        self._wanted = dict(wanted)
        self._dataset_of: dict[str, str] = {}  # export id -> its DataSet, as seen so far

    def __repr__(self) -> str:
        return f"DomoProvider({self.client!r})"

    async def list(self, scope: Scope, *, ids_from: IdsFrom = "manifest") -> LiveScope:
        dataset_id = _dataset(scope)
        exports = await self.client.list_exports(dataset_id)
        wanted = self._wanted.get(dataset_id, ())
        for record in exports.records:
            self._dataset_of[record.export_id] = dataset_id
        runs = tuple(live_run(r, exports.server_time, wanted) for r in exports.records)
        return LiveScope(scope, runs=runs)

    async def run(self, scope: Scope, snapshot: SnapshotSpec) -> Written:
        """POST the export; Domo's previous export comes back as done, with its files."""
        request = export_request(_dataset(scope), snapshot.request, snapshot.write_only)
        started = await self.client.start_export(request, key=snapshot.key)
        export_id = started.record.export_id
        self._dataset_of[export_id] = request.dataset_id
        if started.done:
            note = _previous_note(started, request)
            job = JobState(export_id, started.record.status, True, resource_id=export_id, note=note)
            return Written(resource_id=export_id, job=job)
        return Written(resource_id=export_id, job_id=export_id)

    async def delete(self, scope: Scope, live: ListedResource | LiveRun, *, key: str) -> Written:
        """Domo's API has no call that deletes an export (the manifest sets no ``keep``)."""
        raise ApiError(
            f"Domo cannot delete export {getattr(live, 'run_id', '?')} of {key!r}: its API "
            "has no such call. Remove the files from the bucket with your own S3 tools."
        )

    async def download(
        self, scope: Scope, snapshot: SnapshotSpec, run_id: str, destination: Path
    ) -> int:
        """Never asked (the section has no ``download``): Domo writes to your bucket."""
        raise ConfigError(
            f"Domo writes export {run_id} of {snapshot.key!r} to your S3 bucket; exportctl "
            "downloads nothing. Read the files from the location the apply report names."
        )

    async def poll_jobs(self, job_ids: Sequence[str]) -> Sequence[JobState]:
        """The exports' states, one listing per DataSet; unknown ids are left out."""
        by_dataset: dict[str, list[str]] = {}
        unknown = [i for i in job_ids if i not in self._dataset_of]
        for job_id in job_ids:
            if job_id in self._dataset_of:
                by_dataset.setdefault(self._dataset_of[job_id], []).append(job_id)
        if unknown:  # from a saved plan's wait: look in every DataSet of the manifest
            for dataset_id in self._wanted:
                by_dataset.setdefault(dataset_id, []).extend(unknown)
        states: dict[str, JobState] = {}
        for dataset_id, ids in by_dataset.items():
            exports = await self.client.list_exports(dataset_id)
            for job_id in ids:
                record = exports.by_id(job_id)
                if record is not None:
                    self._dataset_of[job_id] = dataset_id
                    states[job_id] = _job_state(record)
        return [states[i] for i in dict.fromkeys(job_ids) if i in states]


def _job_state(record: ExportRecord) -> JobState:
    finished = phase_of(record.status) != "running"
    return JobState(
        record.export_id,
        record.status or "no status",
        finished,
        failure=failure_of(record),
        resource_id=record.export_id,
        note=outcome_note(record) if finished else "",
    )


def _previous_note(started: StartedExport, request: ExportRequest) -> str:
    """The apply line's words when Domo answered with an export it had already made."""
    record = started.record
    bucket, path = record.destination
    said = (
        f"; Domo answered with its previous export {record.export_id}, since the DataSet's "
        "data has not changed: no new file was written"
    )
    if (bucket, path) not in ((request.bucket, request.path), (None, None)):
        where = f"s3://{bucket}/{path}" if path is not None else f"bucket {bucket}"
        said += (
            f" (that export went to {where}, not to {request.destination}, which gets a "
            "file once the data changes)"
        )
    return said + outcome_note(record, verb="its files are")


def _wanted(desired: DesiredState) -> dict[str, list[FrozenDict]]:
    """The manifest's requests by DataSet."""
    wanted: dict[str, list[FrozenDict]] = {}
    for spec in desired.scopes:
        if spec.scope.provider == PROVIDER:
            wanted.setdefault(_dataset(spec.scope), []).extend(s.request for s in spec.snapshots)
    return wanted


class _Factory:
    """Opens a ``DomoProvider``; the registry's entry for Domo."""

    name = PROVIDER
    sections = (SECTION,)
    scope_selector = "dataset"
    type_selector = "type"
    types = (SNAPSHOT_TYPE,)
    selector_forms = ("dataset=ID", "dataset=ID/KEY", f"type={SNAPSHOT_TYPE}")
    import_command = None

    def match_scope(self, value: str) -> ScopeMatch:
        """A DataSet id (any case), optionally followed by ``/KEY``."""
        dataset_id, _, key = value.partition("/")
        if not dataset_id or (value.endswith("/") and not key):
            raise ValueError("a dataset is its id, optionally followed by /KEY")
        wanted = dataset_id.lower()
        return ScopeMatch(lambda scope: _dataset(scope).lower() == wanted, key or None)

    def section_loader(self) -> SectionLoader:
        return DomoSectionLoader()

    def schema_parts(self) -> SchemaParts:
        return schema_parts()

    def type_schema(self, type_name: str) -> dict[str, Any] | None:
        return None

    def sandbox(
        self, db_path: Path, config: SandboxConfig, clock: SandboxClock, seed_file: Path | None
    ) -> SandboxPart:
        """Domo's export API over its own file beside ``db_path``, on the shared clock."""
        from reconciler.providers.domo.sandbox.part import sandbox_part

        return sandbox_part(db_path, config, clock)

    def open(
        self, connection: Connection, desired: DesiredState, scopes: Iterable[Scope] = ()
    ) -> Provider:
        wanted = _wanted(desired)
        for scope in scopes:
            wanted.setdefault(_dataset(scope), [])
        if connection.sandbox_db is not None:
            from reconciler.providers.domo.sandbox.part import embedded_client

            client, close = embedded_client(
                Path(connection.sandbox_db), list(wanted), connection.parallelism
            )
            return DomoProvider(client, wanted, close)
        env: Mapping[str, str] = os.environ
        if connection.endpoint:
            env = {**os.environ, BASE_URL_VARIABLE: connection.endpoint}
        return DomoProvider(connect(env, parallelism=connection.parallelism), wanted)


FACTORY = _Factory()
