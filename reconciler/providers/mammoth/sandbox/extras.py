"""Routes the official SDK calls around exports, beyond the published spec's.

``mammoth-io`` 0.8.52's ``ExportsAPI`` also reads an export's run history
(``runs``), asks for REST export settings from API docs (``rest_fill``),
reads and sets the workspace's export host policy (``export_hosts``),
publishes a dataview to a managed database (``publish_db``) and downloads a
run's file (``to_file``). Shapes follow the SDK's models
(``models/exports.py``); what the SDK leaves open is listed, with the
decision, in ``docs/sandbox.md``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.providers.mammoth.sandbox.jobs import finished_job
from reconciler.providers.mammoth.sandbox.paths import dataview_of, path_id
from reconciler.providers.mammoth.sandbox.service import SandboxService
from reconciler.providers.mammoth.sandbox.validation import check_target
from reconciler.sandbox.problems import bad_request, not_found

__all__ = [
    "download",
    "export_hosts",
    "export_runs",
    "publish_to_db",
    "rest_fill",
]

_RUNS_MAX = 50
_HOSTS_MAX = 100


def _service(request: Request) -> SandboxService:
    service: SandboxService = request.app.state.sandbox
    return service


async def _object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body


async def export_runs(request: Request) -> Response:
    """``GET .../exports/{id}/runs?limit=``: the export's runs, newest first (1..50)."""
    ref, export_id = dataview_of(request), path_id(request, "export_id")
    text = request.query_params.get("limit", "20")
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= _RUNS_MAX:
        raise bad_request(
            f"query parameter limit: must be an integer between 1 and 50, got {text!r}"
        )
    with _service(request).store.read() as tx:
        export = tx.export(ref, export_id) if tx.dataview_exists(ref) else None
    if export is None:
        raise not_found(f"export {export_id} does not exist in dataview {ref}")
    return JSONResponse({"export_id": export_id, "runs": _runs(export)[: int(text)]})


def _runs(export: dict[str, Any]) -> list[dict[str, Any]]:
    """Limitation: the sandbox keeps the last run only; no data moves, so no rows."""
    if export["execution_start_time"] is None:
        return []
    result = export["last_run_result"] or {}
    return [
        {
            "id": export["id"],
            "started_at": export["execution_start_time"],
            "finished_at": export["execution_end_time"],
            "duration_seconds": 0.0,
            "status": "success" if result.get("status") == "success" else "failed",
            "rows_exported": 0,
            "destination": {"handler_type": export["handler_type"], "target": None},
            "error_message": None,
            "triggered_by": "manual",
        }
    ]


async def rest_fill(request: Request) -> Response:
    """``POST .../exports/rest-fill``: a finished job whose ``suggestion`` names the docs' host.

    Limitation: the sandbox reads no documentation; it proposes the docs URL's
    origin as ``base_url``, never credentials.
    """
    body = await _object(request)
    docs_url = body.get("docs_url")
    parts = urlsplit(docs_url) if isinstance(docs_url, str) else None
    if parts is None or not parts.scheme or not parts.netloc:
        raise bad_request("docs_url must be an absolute http(s) URL")
    suggestion = {
        "base_url": f"{parts.scheme}://{parts.netloc}",
        "endpoint_path": parts.path or "/",
        "http_method": "POST",
        "auth_type": "none",
    }
    store = _service(request).store

    def create() -> dict[str, Any]:
        with store.write() as tx:
            if not tx.dataview_exists(dataview_of(request)):
                raise not_found(f"dataview {dataview_of(request)} does not exist")
            response = {"suggestion": suggestion}
            return finished_job(tx, path=request.url.path, operation="rest_fill", response=response)

    return JSONResponse(await run_in_threadpool(create), status_code=202)


async def export_hosts(request: Request) -> Response:
    """``GET|PUT /workspaces/{w}/export-hosts``: where custom destinations may send."""
    workspace_id = path_id(request, "workspace_id")
    store = _service(request).store
    if request.method == "PUT":
        body = await _object(request)
        restricted, hosts = body.get("restricted"), body.get("hosts", [])
        if not isinstance(restricted, bool):
            raise bad_request("restricted must be true or false")
        if not isinstance(hosts, list) or len(hosts) > _HOSTS_MAX:
            raise bad_request(f"hosts must be a list of at most {_HOSTS_MAX} host names")
        if not all(isinstance(h, str) and h.strip() for h in hosts):
            raise bad_request("hosts entries must be non-empty strings")
        with store.write() as tx:
            tx.set_export_hosts(workspace_id, restricted, hosts)
        return JSONResponse({"restricted": restricted, "hosts": hosts})
    with store.read() as tx:
        restricted, hosts = tx.export_hosts(workspace_id)
        targets = tx.rest_export_targets(workspace_id)
    in_use = sorted({urlsplit(str(t.get("base_url", ""))).netloc for t in targets} - {""})
    return JSONResponse({"restricted": restricted, "hosts": hosts, "in_use": in_use})


async def publish_to_db(request: Request) -> Response:
    """``POST|PATCH .../dataviews/{v}/publish-to-db``: the dataview's publishdb export.

    POST adds it (``odbc_type`` and ``target_properties``, as a publishdb
    target), answered like any add; PATCH replaces its ``credentials``
    (``{"op": "replace", "path": "credentials", "value": {...}}``) in place.
    """
    ref, body = dataview_of(request), await _object(request)
    service = _service(request)
    if request.method == "POST":
        target = body.get("target_properties")
        if not isinstance(target, dict) or not isinstance(body.get("odbc_type"), str):
            raise bad_request("send odbc_type and a target_properties object")
        completed = check_target(
            "publish-to-db", "publishdb", {"odbc_type": body["odbc_type"], **target}
        )
        spec: dict[str, Any] = {
            "handler_type": "publishdb",
            "trigger_type": "pipeline",
            "target_properties": completed,
            "additional_properties": {},
            "condition": {},
            "end_of_pipeline": True,
            "sequence": None,
            "trigger_id": None,
            "run_immediately": True,
            "validate_only": False,
        }
        ids = [ref.workspace_id, ref.project_id, ref.dataset_id, ref.dataview_id]
        action = {"op": "add", "ref": ids, "spec": spec}
        outcome = await run_in_threadpool(
            service.mutate, action, validate_only=False, path=request.url.path, success_status=201
        )
        return JSONResponse(outcome.body, status_code=outcome.status_code)
    patches = body.get("patch")
    if not isinstance(patches, list) or not all(
        isinstance(p, dict) and p.get("op") == "replace" and isinstance(p.get("value"), dict)
        for p in patches
    ):
        raise bad_request('send {"patch": [{"op": "replace", "path": ..., "value": {...}}]}')

    def replace() -> dict[str, Any]:
        with service.store.write() as tx:
            found = tx.live_exports_of(ref, "publishdb")
            if not found:
                raise not_found(f"dataview {ref} has no publish-to-db export")
            target = dict(found[0]["target_properties"])
            for patch in patches:
                target.update(patch["value"])
            tx.update_export(found[0]["id"], {"target_properties": target})
            return {"trigger_id": found[0]["id"], "status": "edited", "future_id": None}

    return JSONResponse(await run_in_threadpool(replace))


async def download(request: Request) -> Response:
    """A run's file: a header line only (no data moves in the sandbox)."""
    return Response("exported_by,the_exportctl_sandbox\n", media_type="text/csv")
