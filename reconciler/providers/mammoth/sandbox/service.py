"""The API's operations, between the HTTP layer and the database.

Blocking by design (SQLite): the routes call these through starlette's
threadpool so the event loop never waits on the database. Every operation
first settles the jobs that are due (see ``jobs.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.sandbox.idempotency import KeyedRequest, claim
from reconciler.providers.mammoth.sandbox.jobs import create_job, render_job, settle_due_jobs
from reconciler.providers.mammoth.sandbox.listing import (
    next_page_query,
    parse_fields,
    parse_list_query,
    render_export,
)
from reconciler.providers.mammoth.sandbox.pipeline import Action, apply_action, require_dataview
from reconciler.providers.mammoth.sandbox.store import Store, Tx
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.problems import HttpProblem, bad_request, not_found

__all__ = ["Outcome", "SandboxService"]


@dataclass(frozen=True)
class Outcome:
    """A mutation's answer, whether commit-then-fail replaces it, and the key to echo."""

    status_code: int
    body: dict[str, Any]
    failure: Literal["503", "drop"] | None = None
    echo_key: str | None = None


class SandboxService:
    def __init__(self, store: Store, faults: Faults) -> None:
        self.store = store
        self.faults = faults

    def list_exports(self, ref: DataviewRef, params: Mapping[str, str], page_url: str) -> str:
        """A PipelineExportsPaginated body, as JSON text.

        ``next`` is the URL of the next page with the same query, or "" when
        this page is the last (the spec requires the field). ``limit`` is left
        out for ``limit=0``: the spec says a page size is above 0. The exports'
        JSON comes ready-made from SQLite (see ``Store``), so it is spliced in.
        """
        query = parse_list_query(params)
        settle_due_jobs(self.store)
        with self.store.read() as tx:
            require_dataview(tx, ref)
            texts, more = tx.query_exports_json(
                ref, query.filters, query.order_by, query.limit, query.offset, query.fields
            )
        page: dict[str, Any] = {
            "offset": query.offset,
            "next": f"{page_url}?{next_page_query(params, query)}" if more and query.limit else "",
        }
        if query.limit:
            page["limit"] = query.limit
        return '{"exports": [' + ", ".join(texts) + "], " + json.dumps(page)[1:]

    def get_export(
        self, ref: DataviewRef, export_id: int, params: Mapping[str, str]
    ) -> dict[str, Any]:
        """One export, deleted ones included (they are still listed as ``deleted``)."""
        fields = parse_fields(params.get("fields"))
        settle_due_jobs(self.store)
        with self.store.read() as tx:
            require_dataview(tx, ref)
            export = tx.export(ref, export_id)
        if export is None:
            raise not_found(f"export {export_id} does not exist in dataview {ref}")
        return render_export(export, fields)

    def mutate(
        self,
        action: Action,
        *,
        validate_only: bool,
        path: str,
        success_status: int,
        keyed: KeyedRequest | None = None,
    ) -> Outcome:
        """Add, edit, patch or delete; immediately, as a job, or only validated.

        A job and ``validate_only`` both first run the action in a savepoint
        that is rolled back, so their checks are exactly those of a real change.
        A ``keyed`` write runs once: its answer is stored with its change and
        replayed to every retry (``idempotency.py``); faults spare replays.
        """
        settle_due_jobs(self.store)
        if keyed is None or self.faults.config.ignore_idempotency_keys:
            return self._mutate(action, validate_only, path, success_status, None)
        if validate_only:  # changes nothing, so nothing to run once: echoed, not stored
            outcome = self._mutate(action, validate_only, path, success_status, None)
            return Outcome(outcome.status_code, outcome.body, echo_key=keyed.key)
        with self.store.write() as tx:
            replay = claim(tx, keyed, time.time())
        if replay is not None:
            return Outcome(replay.status_code, replay.body, echo_key=keyed.key)
        try:
            return self._mutate(action, validate_only, path, success_status, keyed)
        except HttpProblem:
            with self.store.write() as tx:
                tx.release_key(keyed.key)
            raise

    def _mutate(
        self,
        action: Action,
        validate_only: bool,
        path: str,
        success_status: int,
        keyed: KeyedRequest | None,
    ) -> Outcome:
        with self.store.write() as tx:
            if validate_only:
                with tx.savepoint(keep=False):
                    apply_action(tx, action)
                nothing = {"trigger_id": action.get("export_id", 0), "status": None}
                return Outcome(success_status, {**nothing, "future_id": None})
            as_job, will_fail = self.faults.job_plan()
            if as_job:
                with tx.savepoint(keep=False):
                    apply_action(tx, action)  # refused at once: 400/404, no job
                delay = self.faults.config.job_delay_ms
                job = create_job(tx, action, path=path, delay_ms=delay, will_fail=will_fail)
                status_code, body = 202, {"job": job}
            else:
                status_code, body = success_status, apply_action(tx, action)
            if keyed is not None:
                self._record_key(tx, keyed, status_code, body)
            failure = self.faults.after_commit()
        return Outcome(status_code, body, failure, keyed.key if keyed else None)

    @staticmethod
    def _record_key(tx: Tx, keyed: KeyedRequest, status_code: int, body: dict[str, Any]) -> None:
        """Store the answer for replays; a job that already failed leaves the key free."""
        job = body.get("job") if status_code == 202 else None
        if isinstance(job, dict) and job["status"] == "failure":
            tx.release_key(keyed.key)
        else:
            tx.finish_key(keyed.key, status_code, body, job["id"] if job else None)

    def jobs(self, job_ids: Sequence[int]) -> list[dict[str, Any]]:
        settle_due_jobs(self.store)
        with self.store.read() as tx:
            return [render_job(job) for job in tx.jobs(job_ids)] if job_ids else []

    def job(self, job_id: int) -> dict[str, Any]:
        found = self.jobs([job_id])
        if not found:
            # The spec's GET /jobs/{job_id} answers 200, 400 or 401: no 404.
            raise bad_request(f"job {job_id} does not exist")
        return found[0]
