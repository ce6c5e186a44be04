"""Domo's export rules, between the routes and the database.

Each rule is one the documentation states, or the reading of it FACTS.md
takes where it is silent:

- an export runs for ``job_delay_ms`` of sandbox time, then ends ``success``
  (files and row counts in ``urlRowCountMap``) or, drawn from
  ``job_failure_rate``, ``error`` with an ``errorCode`` and ``message``;
  exports end lazily, when a request looks, so the outcome follows the
  sandbox clock (``advance`` finishes them too) and survives a restart;
- one running export per DataSet: a second POST meanwhile is a 400;
- a POST when the DataSet's data has not changed since its last successful
  export answers with that export, whatever bucket, path or query the new
  request names (nothing in Domo's documentation says the match looks at
  them, so the sandbox takes the reading a client must survive);
- a new export's POST answers ``exportStatus: none``, as Domo's example does;
- a successful export's file is written, as it ends, to the local folder
  standing in for S3 (``LocalS3``) at the key its URL names; an answer
  with the previous export writes nothing.

Blocking by design (SQLite): the routes call these through starlette's
threadpool.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from reconciler.providers.domo.sandbox.s3 import LocalS3, object_key
from reconciler.providers.domo.sandbox.settings import DomoSandboxSettings
from reconciler.providers.domo.sandbox.store import Store, Tx
from reconciler.providers.domo.sandbox.validation import ExportAsk
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.problems import HttpProblem, bad_request, not_found

__all__ = ["INJECTED_ERROR_CODE", "DomoSandboxService", "Outcome"]

INJECTED_ERROR_CODE = "SANDBOX_EXPORT_FAILED"
INJECTED_MESSAGE = "sandbox fault: job_failure_rate made this export fail; no file was written"


@dataclass(frozen=True)
class Outcome:
    """A POST's answer, and whether commit-then-fail replaces it."""

    status_code: int
    body: dict[str, Any]
    failure: Literal["503", "drop"] | None = None


class DomoSandboxService:
    def __init__(
        self,
        store: Store,
        faults: Faults,
        clock: SandboxClock,
        settings: DomoSandboxSettings,
        s3: LocalS3,
    ) -> None:
        self.store = store
        self.s3 = s3
        self.faults = faults
        self.clock = clock
        self.settings = settings

    # -- the API -------------------------------------------------------------------

    def start_export(self, dataset_id: str, ask: ExportAsk) -> Outcome:
        with self.store.transaction() as tx:
            dataset = self._readable_dataset(tx, dataset_id)
            _check_columns(dataset, ask.columns)
            exports = tx.exports(dataset_id)
            running = [e for e in exports if e["status"] == "exporting"]
            if running:
                raise bad_request(
                    f"An export of DataSet {dataset_id} is already running "
                    f"({running[-1]['export_id']}); only one export per DataSet can run "
                    "at a time."
                )
            done = [e for e in exports if e["status"] == "success"]
            if done and done[-1]["data_version"] == dataset["data_version"]:
                return Outcome(200, self._render(done[-1]))
            _, will_fail = self.faults.job_plan()
            now = self.clock.now()
            export = {
                "export_id": str(uuid.uuid4()),
                "dataset_id": dataset_id,
                "data_version": dataset["data_version"],
                "status": "exporting",
                "bucket": ask.bucket,
                "path": ask.path,
                "columns": ask.columns,
                "include_bom": int(ask.include_bom),
                "row_count": dataset["row_count"],
                "started": now,
                "due": now + self.faults.config.job_delay_ms / 1000,
                "finished": None,
                "will_fail": int(will_fail),
                "error_code": None,
                "message": None,
            }
            tx.insert_export(export)
            failure = self.faults.after_commit()
        return Outcome(200, {**self._render(export), "exportStatus": "none"}, failure)

    def exports(self, dataset_id: str) -> list[dict[str, Any]]:
        with self.store.transaction() as tx:
            self._readable_dataset(tx, dataset_id)
            return [self._render(e) for e in tx.exports(dataset_id)]

    def _readable_dataset(self, tx: Tx, dataset_id: str) -> dict[str, Any]:
        """The DataSet, its due exports ended first; 404 unknown, 403 not shared."""
        now = self.clock.now()
        for export in tx.finish_due_exports(now, INJECTED_ERROR_CODE, INJECTED_MESSAGE):
            finished = tx.dataset(export["dataset_id"])
            assert finished is not None  # exports reference their DataSet
            self.s3.write_export(export, finished["columns"])
        dataset = tx.dataset(dataset_id)
        if dataset is None:
            raise not_found(f"DataSet {dataset_id} was not found in this instance.")
        if not dataset["readable"]:
            raise HttpProblem(
                403, f"You need READ access to DataSet {dataset_id} (or dataset.admin)."
            )
        return dataset

    def _render(self, export: dict[str, Any]) -> dict[str, Any]:
        """An export as Domo's status object shows it."""
        files = {}
        if export["status"] == "success":
            url = f"s3://{object_key(export['bucket'], export['path'], export['export_id'])}"
            files[url] = export["row_count"]
        return {
            "exportId": export["export_id"],
            "exportStatus": export["status"],
            "errorCode": export["error_code"],
            "message": export["message"],
            "started": self._time(export["started"]),
            "finished": self._time(export["finished"]),
            "compression": "gzip",
            "bucket": export["bucket"],
            "exportFormat": "csv",
            "urlRowCountMap": files,
        }

    def _time(self, seconds: float | None) -> str | int | None:
        if seconds is None:
            return None
        millis = round(seconds * 1000)
        form = self.settings.timestamps
        if form == "millis":
            return millis
        if form == "millis-string":
            return str(millis)
        when = datetime.fromtimestamp(millis / 1000, UTC)
        return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # -- admin -----------------------------------------------------------------------

    def create_dataset(
        self,
        dataset_id: str | None,
        *,
        rows: int,
        columns: Sequence[str] | None,
        readable: bool,
    ) -> tuple[dict[str, Any], bool]:
        """The DataSet, made if new; whether it was made (an existing one is left as it is)."""
        chosen = dataset_id or str(uuid.uuid4())
        with self.store.transaction() as tx:
            created = tx.dataset(chosen) is None
            if created:
                tx.insert_dataset(chosen, rows, columns, readable)
            dataset = tx.dataset(chosen)
        assert dataset is not None
        return dataset, created

    def bump_dataset(self, dataset_id: str, rows: int | None) -> dict[str, Any]:
        """New data in the DataSet: the next export writes a new file."""
        with self.store.transaction() as tx:
            if tx.dataset(dataset_id) is None:
                raise not_found(f"DataSet {dataset_id} was not found in this instance.")
            tx.bump_dataset(dataset_id, rows)
            dataset = tx.dataset(dataset_id)
        assert dataset is not None
        return dataset


def _check_columns(dataset: dict[str, Any], names: Sequence[str]) -> None:
    known = dataset["columns"]
    if known is None:
        return
    unknown = [name for name in names if name not in known]
    if unknown:
        raise bad_request(
            f"Column {unknown[0]!r} does not exist in DataSet {dataset['id']}; "
            "the export cannot be created."
        )
