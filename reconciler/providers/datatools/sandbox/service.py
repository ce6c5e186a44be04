"""The export views' operations, between the HTTP layer and the database.

Each method is one view method of the Django project, answering what it
answers: the envelope with the view's own messages, its generic 400 for any
validation failure (the details never reach the client), 403 for another
user's template, 409 for a job in the wrong state. Blocking by design
(SQLite): the app calls these from starlette's threadpool. Every operation
first lets the worker catch up with the clock (``worker.settle``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from reconciler.providers.datatools.sandbox.auth import authenticate, start_session
from reconciler.providers.datatools.sandbox.knobs import DatatoolsKnobs
from reconciler.providers.datatools.sandbox.representation import job_json, template_json
from reconciler.providers.datatools.sandbox.store import Store, Tx
from reconciler.providers.datatools.sandbox.validation import (
    FORMATS,
    Invalid,
    PlainInvalid,
    check_job_create,
    check_template_create,
    check_template_update,
    job_service_filters,
)
from reconciler.providers.datatools.sandbox.worker import (
    CONTENT_TYPES,
    NO_DATA,
    cleanup_expired,
    settle,
)
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.faults import Faults

__all__ = [
    "BROKER_DOWN",
    "INJECTED_FAILURE",
    "DatatoolsService",
    "File",
    "Missing",
    "Refused",
    "Reply",
]

INJECTED_FAILURE = "sandbox fault: job_failure_rate made this export fail"
BROKER_DOWN = (
    "Export job creation failed: Error 111 connecting to localhost:6379. Connection refused."
)
_STATUSES = ("pending", "processing", "completed", "failed", "cancelled")
_RUNNING = ("pending", "processing")
T = TypeVar("T")


class Refused(Exception):
    """An error envelope, before anything was written."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


class Missing(Exception):
    """Django's HTML 404: the action routes look the job up outside any ``try``."""


@dataclass(frozen=True)
class Reply:
    """An envelope answer; ``after_commit`` is a commit-then-fail fault that replaces it."""

    status: int
    body: dict[str, Any]
    after_commit: Literal["503", "drop"] | None = None


@dataclass(frozen=True)
class File:
    """A download: the file's bytes, type and name."""

    content: bytes
    content_type: str
    filename: str


def _ok(message: str, data: Any = None, status: int = 200) -> Reply:
    body: dict[str, Any] = {"success": True, "message": message}
    if data is not None:
        body["data"] = data
    return Reply(status, body)


class DatatoolsService:
    def __init__(
        self,
        store: Store,
        faults: Faults,
        clock: SandboxClock,
        knobs: DatatoolsKnobs,
        login_user: str,
    ) -> None:
        self.store = store
        self.faults = faults
        self.clock = clock
        self.knobs = knobs
        self.login_user = login_user

    def _run(self, operation: Callable[[Tx, float], T]) -> T:
        """``operation`` in one transaction, after the worker caught up with the clock."""
        now = self.clock.now()
        with self.store.transaction() as tx:
            settle(tx, now)
            return operation(tx, now)

    def _committed(self, reply: Reply) -> Reply:
        """A successful write's reply, unless commit-then-fail takes its place."""
        return Reply(reply.status, reply.body, self.faults.after_commit())

    def _superuser(self, tx: Tx, user: str) -> bool:
        found = tx.user(user)
        return bool(found and found["is_superuser"])

    # -- the site -------------------------------------------------------------------

    def session_user(self, key: str) -> str | None:
        """Whose session the ``sessionid`` cookie names, if it has not expired."""
        return self._run(lambda tx, now: tx.session_user(key, now))

    def log_in(self, username: str, password: str) -> str | None:
        """A new session key for a correct login, else ``None``."""

        def start(tx: Tx, now: float) -> str | None:
            if not authenticate(tx, username, password):
                return None
            return start_session(tx, username, now + self.knobs.session_ttl_s)

        return self._run(start)

    def end_sessions(self) -> int:
        """End every session now, as an expiry would (admin)."""
        return self._run(lambda tx, now: tx.end_sessions())

    def datasources(self) -> list[dict[str, Any]]:
        return self._run(lambda tx, now: tx.datasources())

    def ensure_datasources(self, ids: Iterable[str], rows: int = 50) -> None:
        """Create the datasources a manifest names that the seed lacks (owned by no one).

        The embedded sandbox calls this before the first request, so a
        manifest written for a real site plans and applies against it too.
        """

        def ensure(tx: Tx, now: float) -> None:
            for datasource_id in ids:
                if tx.datasource(datasource_id) is None:
                    name = f"datasource-{datasource_id[:8]}"
                    values = {"id": datasource_id, "name": name, "owner": None, "row_count": rows}
                    tx.add_datasource(values)

        self._run(ensure)

    def cleanup(self) -> int:
        """The server's expiry cleanup, which nothing schedules on the real one (admin)."""
        return self._run(cleanup_expired)

    # -- templates -----------------------------------------------------------------

    def list_templates(self, user: str, params: Mapping[str, str]) -> Reply:
        def listing(tx: Tx, now: float) -> Reply:
            rows = tx.visible_templates(user)
            kind, fmt, search = params.get("type"), params.get("format"), params.get("search")
            if kind in ("user", "system", "shared"):
                rows = [r for r in rows if r["template_type"] == kind]
            if fmt:
                rows = [r for r in rows if r["configuration"].get("format") == fmt]
            if search:
                needle = search.lower()
                rows = [r for r in rows if needle in (r["name"] + "\n" + r["description"]).lower()]
            data = {"templates": [template_json(r) for r in rows], "total_count": len(rows)}
            return _ok("Export templates retrieved successfully", data)

        return self._run(listing)

    def get_template(self, user: str, template_id: str) -> Reply:
        def read(tx: Tx, now: float) -> Reply:
            row = tx.template(template_id)
            visible = row is not None and (
                row["user"] == user
                or row["template_type"] in ("system", "shared")
                or self._superuser(tx, user)
            )
            if row is None or not visible:
                raise Refused("Error retrieving export templates")
            return _ok("Export template retrieved successfully", template_json(row))

        return self._run(read)

    def create_template(self, user: str, data: Any) -> Reply:
        """``data`` is the parsed body, or the ``Refused`` its reading ended in."""
        if isinstance(data, Refused):
            raise data

        def create(tx: Tx, now: float) -> Reply:
            try:
                fields = check_template_create(
                    data,
                    superuser=self._superuser(tx, user),
                    taken=lambda name: tx.template_name_taken(user, name),
                )
            except Invalid:
                raise Refused("Error creating export template") from None
            row = {
                "id": str(uuid.uuid4()),
                "user": user,
                **fields,
                "usage_count": 0,
                "created_at": now,
                "updated_at": now,
            }
            tx.add_template(row)
            return _ok("Export template created successfully", template_json(row), 201)

        return self._committed(self._run(create))

    def _own_template(
        self, tx: Tx, user: str, template_id: str, missing: str, verb: str
    ) -> dict[str, Any]:
        """The template, if it exists (else ``missing``) and the user may ``verb`` it (else 403)."""
        row = tx.template(template_id)
        if row is None:
            raise Refused(missing)
        if row["user"] != user and not self._superuser(tx, user):
            raise Refused(f"You do not have permission to {verb} this template", 403)
        return row

    def update_template(self, user: str, template_id: str, data: Any) -> Reply:
        def update(tx: Tx, now: float) -> Reply:
            row = self._own_template(
                tx, user, template_id, "Error updating export template", "modify"
            )
            if isinstance(data, Refused):  # the body is read only after the permission check
                raise data
            try:
                changes = check_template_update(
                    data, row, taken=lambda name: tx.template_name_taken(row["user"], name)
                )
            except Invalid:
                raise Refused("Error updating export template") from None
            changes["updated_at"] = now  # even a no-op update changes updated_at
            tx.update_template(template_id, changes)
            updated = {**row, **changes}
            return _ok("Export template updated successfully", template_json(updated))

        return self._committed(self._run(update))

    def delete_template(self, user: str, template_id: str) -> Reply:
        def delete(tx: Tx, now: float) -> Reply:
            self._own_template(tx, user, template_id, "Error deleting export template", "delete")
            tx.delete_template(template_id)
            return _ok("Export template deleted successfully")

        return self._committed(self._run(delete))

    # -- jobs ------------------------------------------------------------------------

    def _job_json(self, tx: Tx, row: Mapping[str, Any], now: float) -> dict[str, Any]:
        datasource = tx.datasource(row["datasource_id"])
        return job_json(row, datasource["name"] if datasource else "", now)

    def list_jobs(self, user: str, params: Mapping[str, str]) -> Reply:
        def listing(tx: Tx, now: float) -> Reply:
            rows = tx.jobs_of(user)
            if params.get("status") in _STATUSES:  # any other value is ignored, not refused
                rows = [r for r in rows if r["status"] == params["status"]]
            if params.get("format") in FORMATS:
                rows = [r for r in rows if r["format"] == params["format"]]
            if params.get("datasource"):
                wanted = _uuid_or_refuse(params["datasource"], "Error retrieving export jobs")
                rows = [r for r in rows if r["datasource_id"] == wanted]
            shown = [self._job_json(tx, r, now) for r in rows]
            if params.get("search"):
                needle = params["search"].lower()
                shown = [
                    j
                    for j in shown
                    if needle in j["datasource"]["name"].lower()
                    or needle in j["error_message"].lower()
                ]
            return _ok("Export jobs retrieved successfully", _page(shown, params))

        return self._run(listing)

    def get_job(self, user: str, job_id: str) -> Reply:
        def read(tx: Tx, now: float) -> Reply:
            row = tx.job(job_id, user)
            if row is None:
                raise Refused("Error retrieving export jobs")
            return _ok("Export job retrieved successfully", self._job_json(tx, row, now))

        return self._run(read)

    def create_job(self, user: str, data: Any) -> Reply:
        if isinstance(data, Refused):
            raise data
        try:
            datasource_id, fmt, filters = check_job_create(data)
        except PlainInvalid as invalid:
            raise Refused(invalid.shown) from None
        except Invalid:
            raise Refused("Error creating export job") from None
        if self.knobs.upstream_bug == "access_check":
            raise Refused("Error creating export job")
        reply = self._run(lambda tx, now: self._new_job(tx, now, user, datasource_id, fmt, filters))
        return self._committed(reply) if reply.status == 201 else reply

    def _new_job(
        self, tx: Tx, now: float, user: str, datasource_id: str, fmt: str, filters: Any
    ) -> Reply:
        datasource = tx.datasource(datasource_id)
        if datasource is None or datasource["owner"] not in (None, user):
            raise Refused("Error creating export job")
        _, injected = self.faults.job_plan()
        failure = None
        if datasource["row_count"] == 0:
            failure = NO_DATA
        elif self.knobs.upstream_bug == "datasource_lookup":
            failure = str([f"“{datasource['name']}” is not a valid UUID."])
        elif injected:
            failure = INJECTED_FAILURE
        delay = self.faults.config.job_delay_ms / 1000
        queued = self.knobs.upstream_bug != "broker_down"
        row = {
            "id": str(uuid.uuid4()),
            "user": user,
            "datasource_id": datasource_id,
            "status": "pending",
            "format": fmt,
            "filters": job_service_filters(filters),
            "progress": 0,
            "file_path": "",
            "file_size": None,
            "row_count": None,
            "error_message": "",
            "created_at": now,
            "started_at": None,
            "completed_at": None,
            "expires_at": now + self.knobs.retention_days * 86400,
            "run_at": now + delay / 3 if queued else None,
            "finish_at": now + delay,
            "failure": failure,
        }
        tx.add_job(row)
        if not queued:  # the row is saved; the task queue is not reachable
            return Reply(400, {"success": False, "error": BROKER_DOWN})
        return _ok("Export job created successfully", self._job_json(tx, row, now), 201)

    def delete_job(self, user: str, job_id: str) -> Reply:
        def delete(tx: Tx, now: float) -> Reply:
            row = tx.job(job_id, user)
            if row is None:
                raise Refused("Error deleting export job")
            if row["status"] in _RUNNING:
                raise Refused(
                    "Cannot delete job that is currently processing. Cancel it first.", 409
                )
            tx.delete_job(job_id)
            return _ok("Export job deleted successfully")

        return self._committed(self._run(delete))

    def job_action(self, user: str, job_id: str, action: str, method: str) -> Reply | File:
        """``cancel`` and ``retry`` (POST), ``download`` (GET); an unknown job is ``Missing``."""

        def act(tx: Tx, now: float) -> Reply | File:
            row = tx.job(job_id, user)
            if row is None:
                raise Missing(job_id)
            if (method, action) == ("POST", "cancel"):
                return self._cancel(tx, row, now)
            if (method, action) == ("POST", "retry"):
                return self._retry(tx, row, now)
            if (method, action) == ("GET", "download"):
                return self._download(tx, row, now)
            raise Refused(f"Unknown action: {action}")

        answer = self._run(act)
        return self._committed(answer) if isinstance(answer, Reply) and method == "POST" else answer

    def _cancel(self, tx: Tx, row: Mapping[str, Any], now: float) -> Reply:
        if row["status"] not in _RUNNING:
            raise Refused("Failed to cancel export job", 409)
        # A pending job's task finds it cancelled and does nothing; a running one goes on.
        changes: dict[str, Any] = {"status": "cancelled", "completed_at": now}
        if row["status"] == "pending":
            changes["run_at"] = None
        tx.update_job(row["id"], changes)
        job = self._job_json(tx, {**row, **changes}, now)
        return _ok("Export job cancelled successfully", job)

    def _retry(self, tx: Tx, row: Mapping[str, Any], now: float) -> Reply:
        if row["status"] not in ("failed", "cancelled"):
            raise Refused("Only failed or cancelled jobs can be retried", 409)
        # The real view resets the job and leaves re-queueing as a TODO: it never runs.
        changes = {
            "status": "pending",
            "progress": 0,
            "error_message": "",
            "started_at": None,
            "completed_at": None,
            "run_at": None,
        }
        tx.update_job(row["id"], changes)
        return _ok("Export job queued for retry", self._job_json(tx, {**row, **changes}, now))

    def _download(self, tx: Tx, row: Mapping[str, Any], now: float) -> Reply | File:
        expired = row["expires_at"] is not None and now > row["expires_at"]
        if row["status"] != "completed" or expired or row["content"] is None:
            error = "Export file is not available for download"
            return Reply(404, {"success": False, "error": error})
        datasource = tx.datasource(row["datasource_id"])
        name = datasource["name"] if datasource else ""
        filename = f"{name}_export_{row['id']}.{row['format']}"
        return File(row["content"], CONTENT_TYPES[row["format"]], filename)


def _uuid_or_refuse(text: str, error: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise Refused(error) from None


def _page(jobs: list[dict[str, Any]], params: Mapping[str, str]) -> dict[str, Any]:
    """Django's ``Paginator.get_page``: a bad page is page 1, one past the end is the last."""
    try:
        size = min(int(params.get("page_size", "20")), 100)
    except ValueError:
        raise Refused("Error retrieving export jobs") from None
    if size <= 0:
        raise Refused("Error retrieving export jobs")
    count = max(1, -(-len(jobs) // size))
    try:
        number = int(params.get("page", "1"))
    except ValueError:
        number = 1
    if not 1 <= number <= count:
        number = count
    return {
        "export_jobs": jobs[(number - 1) * size : number * size],
        "pagination": {
            "total_count": len(jobs),
            "page_count": count,
            "current_page": number,
            "has_previous": number > 1,
            "has_next": number < count,
            "page_size": size,
        },
    }
