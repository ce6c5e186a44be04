"""The server's export worker, played on the sandbox clock.

No thread runs jobs: every request first settles what the worker would have
done by now (``settle``), so outcomes are deterministic and a test can make
a day pass with ``SandboxClock.advance``. A job's times are fixed when it is
created: the worker picks it up (``pending`` -> ``processing``, progress 25)
a third of ``job_delay_ms`` later, reaches 75 at two thirds, and ends
``completed`` (100, a file) or ``failed`` (``error_message``) at the end.

As on the real server: a job cancelled while ``pending`` never runs; one
cancelled while ``processing`` still ends ``completed`` or ``failed``,
because the worker does not look at the status again; a job reset by the
retry action has no pick-up time and stays ``pending`` for ever.

The file is made from the datasource's rows with the worker's own filter
order: ``columns`` (unknown names ignored), ``limit`` before ``offset``,
``where_conditions`` only as an object ``{column: value}`` and
``order_by``; ``group_by`` is ignored. Limitation: parquet and excel files
are placeholders (bytes of the right name, not a real file of that format).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from reconciler.providers.datatools.sandbox.store import Tx

__all__ = ["CONTENT_TYPES", "NO_DATA", "cleanup_expired", "datasource_rows", "settle"]

NO_DATA = "No data available for export"
CONTENT_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "parquet": "application/octet-stream",
    "excel": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_REGIONS = ("north", "south", "east", "west")


def datasource_rows(count: int) -> list[dict[str, Any]]:
    """A datasource's rows: the same ``count`` rows every time."""
    return [
        {"id": n, "region": _REGIONS[n % 4], "amount": (n * 37) % 1000} for n in range(1, count + 1)
    ]


def settle(tx: Tx, now: float) -> None:
    """Do for every job what the worker would have done by ``now``."""
    for job in tx.jobs_due(now):
        changes: dict[str, Any] = {}
        if not job["worker_active"]:  # a pending job whose pick-up time has come
            changes = {"status": "processing", "started_at": job["run_at"], "worker_active": 1}
            changes["progress"] = 0 if job["failure"] else 25
        if job["finish_at"] <= now:
            changes.update(_finish(tx, job))
        elif not job["failure"] and _past_half(job, now):
            changes["progress"] = 75
        if changes:
            tx.update_job(job["id"], changes)


def _past_half(job: Mapping[str, Any], now: float) -> bool:
    """Whether the worker is half way (a retried job has no pick-up time: never)."""
    return job["run_at"] is not None and (job["run_at"] + job["finish_at"]) / 2 <= now


def _finish(tx: Tx, job: Mapping[str, Any]) -> dict[str, Any]:
    done = {"worker_active": 0, "completed_at": job["finish_at"]}
    if job["failure"]:
        return {**done, "status": "failed", "error_message": job["failure"]}
    datasource = tx.datasource(job["datasource_id"])
    rows = _filtered(datasource_rows(datasource["row_count"] if datasource else 0), job["filters"])
    content = _file(rows, job["format"])
    return {
        **done,
        "status": "completed",
        "progress": 100,
        "file_path": f"/srv/hydroml/media/exports/{job['user']}/{job['id']}.{job['format']}",
        "file_size": len(content),
        "row_count": len(rows),
        "content": content,
    }


def _filtered(rows: list[dict[str, Any]], filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    names = list(rows[0]) if rows else []
    if filters.get("columns"):
        chosen = [c for c in filters["columns"] if c in names]
        if chosen:
            rows, names = [{c: row[c] for c in chosen} for row in rows], chosen
    if filters.get("limit"):
        rows = rows[: int(filters["limit"])]
    if filters.get("offset"):
        rows = rows[int(filters["offset"]) :]
    where = filters.get("where_conditions")
    if isinstance(where, dict):  # the documented list form is stored and ignored
        for column, value in where.items():
            if column in names:
                rows = [row for row in rows if row[column] == value]
    order = filters.get("order_by")
    order_by = [order] if isinstance(order, str) else order if isinstance(order, list) else []
    valid = [c for c in order_by if c in names]
    if valid:
        rows = sorted(rows, key=lambda row: [row[c] for c in valid])
    return rows


def _file(rows: list[dict[str, Any]], format: str) -> bytes:
    if format == "json":
        return json.dumps(rows).encode()
    text = io.StringIO()
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    if format == "csv":
        return text.getvalue().encode()
    return f"sandbox placeholder for a {format} file\n".encode() + text.getvalue().encode()


def cleanup_expired(tx: Tx, now: float) -> int:
    """The server's cleanup routine (which nothing schedules): expired files go."""
    jobs = tx.expired_completed_jobs(now)
    for job in jobs:
        tx.update_job(job["id"], {"status": "expired", "file_path": "", "content": None})
    return len(jobs)
