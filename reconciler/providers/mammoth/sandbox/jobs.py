"""Jobs: the 202 answers' deferred mutations, settled lazily.

Design: a job stores the mutation as an action (``pipeline.py``) and a due
time. No background thread runs them; any request first settles the jobs
that are due, in id order, in one write transaction. So a job's outcome is
deterministic, it survives a restart, and a client polling ``/jobs`` sees
``processing`` until ``job_delay_ms`` has passed, then ``success`` or
``failure``. The mutation is re-checked when the job runs, so a clash that
arose meanwhile (another export took the S3 file) fails the job, as on a
real server.

A failed job says why where the official SDK looks (``jobs._failure_message``):
a refused change carries the server's error body at ``response.response``
(its ``detail``) and the error's sentence at ``response.error``; an injected
failure, like a failed background future, carries ``response.reason``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from reconciler.providers.mammoth.sandbox.errors import error_body
from reconciler.providers.mammoth.sandbox.pipeline import Action, apply_action
from reconciler.providers.mammoth.sandbox.store import Store, Tx, timestamp
from reconciler.sandbox.problems import HttpProblem

__all__ = [
    "FILES_PREFIX",
    "INJECTED_FAILURE",
    "create_job",
    "finished_job",
    "render_job",
    "settle_due_jobs",
]

# Where a run's file is served, as the signed download URL of a real run would
# be: no credentials needed (the SDK's to_file downloads it with none).
FILES_PREFIX = "/_files/mammoth"

INJECTED_FAILURE = "sandbox fault: job_failure_rate made this job fail; nothing was changed"


def create_job(
    tx: Tx, action: Action, *, path: str, delay_ms: float, will_fail: bool
) -> dict[str, Any]:
    now = timestamp()
    job_id = tx.insert_job(
        {
            "status": "processing",
            "response": "{}",
            "created_at": now,
            "last_updated_at": now,
            "path": path,
            "operation": f"{action['op']}_export",
            "due_at": time.time() + delay_ms / 1000,
            "will_fail": int(will_fail),
            "action": json.dumps(action),
        }
    )
    if delay_ms <= 0:  # due at once: the 202 answer carries the finished job
        _settle(tx, tx.jobs([job_id])[0])
    return render_job(tx.jobs([job_id])[0])


def settle_due_jobs(store: Store) -> None:
    """Run every job whose time has come. Cheap when none is due (one indexed read)."""
    now = time.time()
    if not store.has_due_jobs(now):
        return
    with store.write() as tx:
        for job in tx.due_jobs(now):
            _settle(tx, job)


def _settle(tx: Tx, job: Mapping[str, Any]) -> None:
    if job["will_fail"]:
        _fail(tx, job["id"], {"reason": INJECTED_FAILURE})
        return
    try:
        with tx.savepoint(keep=True):
            result = apply_action(tx, json.loads(job["action"]))
    except HttpProblem as problem:
        refusal = error_body(problem.status_code, problem.detail, problem.extra)
        _fail(
            tx,
            job["id"],
            {"status_code": problem.status_code, "error": problem.detail, "response": refusal},
        )
        return
    tx.finish_job(job["id"], "success", {**result, **_download(json.loads(job["action"]), result)})


def _download(action: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, str]:
    """The ``url`` of the file an S3 export's run wrote (the SDK's to_file reads it)."""
    spec = action.get("spec") or {}
    if spec.get("handler_type") != "s3" or not spec.get("run_immediately"):
        return {}
    name = quote(str(spec["target_properties"].get("file", "export.csv")))
    return {"url": f"{FILES_PREFIX}/{result['trigger_id']}/{name}"}


def finished_job(
    tx: Tx, *, path: str, operation: str, response: Mapping[str, Any]
) -> dict[str, Any]:
    """A job that ended the moment it started (work the sandbox does at once)."""
    now = timestamp()
    job_id = tx.insert_job(
        {
            "status": "success",
            "response": json.dumps(response),
            "created_at": now,
            "last_updated_at": now,
            "path": path,
            "operation": operation,
            "due_at": 0,
            "will_fail": 0,
            "action": "{}",
        }
    )
    return render_job(tx.jobs([job_id])[0])


def _fail(tx: Tx, job_id: int, response: Mapping[str, Any]) -> None:
    """End a job in failure; the write it served did not happen, so its key is free again."""
    tx.finish_job(job_id, "failure", response)
    tx.release_keys_of_job(job_id)


def render_job(job: Mapping[str, Any]) -> dict[str, Any]:
    """A job as JobSchema shows it (the stored action and due time stay inside)."""
    return {
        "id": job["id"],
        "status": job["status"],
        "response": json.loads(job["response"]),
        "last_updated_at": job["last_updated_at"],
        "created_at": job["created_at"],
        "path": job["path"],
        "operation": job["operation"],
    }
