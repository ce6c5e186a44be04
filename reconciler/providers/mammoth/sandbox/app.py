"""The sandbox as one ASGI app: Mammoth's exports and jobs API plus admin routes.

``create_app`` needs no lifespan events (httpx's ASGITransport sends none):
the database is opened, and the seed file loaded, in the factory.

Routes under ``/api/v2`` are the spec's, plus the dataview lookup here and
the others the official SDK calls around exports (``extras.py``);
``/_sandbox/...`` are the sandbox's own admin routes. Both need the
``X-API-KEY`` / ``X-API-SECRET`` headers; faults apply to ``/api/v2`` only.
``/_files/mammoth/...`` serves what runs wrote, without credentials, as a
signed download URL would.
"""

from __future__ import annotations

import hmac
import json
import re
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.providers.mammoth.idempotency import HEADER as IDEMPOTENCY_HEADER
from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.sandbox import extras
from reconciler.providers.mammoth.sandbox.credentials import SandboxCredentials
from reconciler.providers.mammoth.sandbox.errors import error_response
from reconciler.providers.mammoth.sandbox.idempotency import KeyedRequest
from reconciler.providers.mammoth.sandbox.jobs import FILES_PREFIX
from reconciler.providers.mammoth.sandbox.paths import MAX_ID, dataview_of, path_id
from reconciler.providers.mammoth.sandbox.seed import load_seed
from reconciler.providers.mammoth.sandbox.service import Outcome, SandboxService
from reconciler.providers.mammoth.sandbox.store import Store
from reconciler.providers.mammoth.sandbox.validation import parse_add_spec, parse_patches
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.drop import DropConnectionResponse
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.problems import HttpProblem, bad_request, not_found

__all__ = ["ADMIN_PREFIX", "API_PREFIX", "FILES_PREFIX", "create_app", "sandbox_service"]

API_PREFIX = "/api/v2"
ADMIN_PREFIX = "/_sandbox"
_EXPORTS = (
    "/workspaces/{workspace_id:int}/projects/{project_id:int}/datasets/{dataset_id:int}"
    "/dataviews/{dataview_id:int}/pipeline/exports"
)
_COMMIT_THEN_FAIL_DETAIL = "sandbox fault: the change was saved, but the answer failed (503)"
_ASCII_ID = re.compile(r"[0-9]+")


def sandbox_service(app: Starlette) -> SandboxService:
    service: SandboxService = app.state.sandbox
    return service


def _service(request: Request) -> SandboxService:
    return sandbox_service(request.app)


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("the request body is not valid JSON") from None


def _answer(outcome: Outcome) -> Response:
    if outcome.failure == "drop":
        return DropConnectionResponse()
    if outcome.failure == "503":
        return error_response(503, _COMMIT_THEN_FAIL_DETAIL)
    echo = {IDEMPOTENCY_HEADER: outcome.echo_key} if outcome.echo_key else None
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=echo)


# -- /api/v2 ------------------------------------------------------------------------


async def exports_collection(request: Request) -> Response:
    service, ref = _service(request), dataview_of(request)
    if request.method == "GET":
        page_url = str(request.url.replace(query=""))
        params = dict(request.query_params)
        page = await run_in_threadpool(service.list_exports, ref, params, page_url)
        return Response(page, media_type="application/json")
    spec = parse_add_spec(await _json_body(request), ref.dataview_id)
    if spec["trigger_id"] is None:
        action: dict[str, Any] = {"op": "add", "ref": list(_ref_tuple(ref)), "spec": spec}
    else:
        action = {"op": "edit", "ref": list(_ref_tuple(ref)), "spec": spec}
        action["export_id"] = spec["trigger_id"]
    return await _mutate(request, action, spec["validate_only"], 201)


async def export_item(request: Request) -> Response:
    service, ref = _service(request), dataview_of(request)
    export_id = path_id(request, "export_id")
    base = {"ref": list(_ref_tuple(ref)), "export_id": export_id}
    if request.method == "GET":
        params = dict(request.query_params)
        return JSONResponse(await run_in_threadpool(service.get_export, ref, export_id, params))
    if request.method == "DELETE":
        return await _mutate(request, {"op": "delete", **base}, False, 200)
    patches = parse_patches(await _json_body(request), ref.dataview_id)
    validate_only = any(p["value"] and p["value"]["validate_only"] for p in patches)
    return await _mutate(request, {"op": "patch", **base, "patches": patches}, validate_only, 200)


def _ref_tuple(ref: DataviewRef) -> tuple[int, int, int, int]:
    return (ref.workspace_id, ref.project_id, ref.dataset_id, ref.dataview_id)


async def _mutate(
    request: Request, action: dict[str, Any], validate_only: bool, success_status: int
) -> Response:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    keyed = None if key is None else KeyedRequest(key, f"{request.method} {request.url.path}")
    outcome = await run_in_threadpool(
        _service(request).mutate,
        action,
        validate_only=validate_only,
        path=request.url.path,
        success_status=success_status,
        keyed=keyed,
    )
    return _answer(outcome)


def _with_file_url(request: Request, job: dict[str, Any]) -> dict[str, Any]:
    """A run's file URL made absolute, on this server (a real one is signed, elsewhere)."""
    response = job.get("response")
    if isinstance(response, dict) and str(response.get("url", "")).startswith(FILES_PREFIX):
        root = str(request.base_url).rstrip("/")
        return {**job, "response": {**response, "url": root + response["url"]}}
    return job


async def job_item(request: Request) -> Response:
    job_id = path_id(request, "job_id")
    job = await run_in_threadpool(_service(request).job, job_id)
    return JSONResponse({"job": _with_file_url(request, job)})


async def job_collection(request: Request) -> Response:
    text = request.query_params.get("job_ids", "")
    tokens = [t.strip() for t in text.split(",") if t.strip()]
    # ASCII digits only: str.isdigit() also takes "³", which int() then refuses.
    if not all(_ASCII_ID.fullmatch(t) and int(t) <= MAX_ID for t in tokens):
        raise bad_request(
            f"query parameter job_ids: expected comma-separated job ids, got {text!r}",
            [{"key": "job_ids", "message": "expected comma-separated integers", "source": "query"}],
        )
    jobs = await run_in_threadpool(_service(request).jobs, [int(t) for t in tokens])
    return JSONResponse({"jobs": [_with_file_url(request, job) for job in jobs]})


async def dataview_resource(request: Request) -> Response:
    """``GET .../resources/dataview/{id}``: the lookup the SDK uses to find a dataview's dataset.

    The SDK reads only ``resource.dataset.id`` (``PipelineAPI._find_dataset_for_dataview``)
    and takes a 404 as "no such dataview in this project".
    """
    workspace_id, project_id = path_id(request, "workspace_id"), path_id(request, "project_id")
    dataview_id = path_id(request, "dataview_id")
    store = _service(request).store
    found = await run_in_threadpool(store.find_dataview, workspace_id, project_id, dataview_id)
    if found is None:
        raise not_found(f"dataview {dataview_id} does not exist in project {project_id}")
    resource = {
        "id": found.dataview_id,
        "type": "dataview",
        "workspace_id": found.workspace_id,
        "project_id": found.project_id,
        "dataset": {"id": found.dataset_id},
    }
    return JSONResponse({"resource": resource})


# -- /_sandbox admin ----------------------------------------------------------------


async def admin_health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def admin_dataviews(request: Request) -> Response:
    body = await _json_body(request)
    names = ("workspace_id", "project_id", "dataset_id", "dataview_id")
    if not isinstance(body, dict) or not all(
        isinstance(body.get(n), int) and not isinstance(body.get(n), bool) for n in names
    ):
        raise bad_request(f"send an object with integer {', '.join(names)}")
    ref = DataviewRef(*(body[n] for n in names))
    created = await run_in_threadpool(_service(request).store.ensure_dataviews, [ref])
    payload = {"dataview": {n: body[n] for n in names}, "created": bool(created)}
    return JSONResponse(payload, status_code=201 if created else 200)


async def admin_connections(request: Request) -> Response:
    body = await _json_body(request)
    ids = body.get("connection_ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise bad_request('send {"connection_ids": ["name", ...]} with non-empty strings')
    store = _service(request).store
    await run_in_threadpool(store.add_connections, ids)
    with store.read() as tx:
        known = tx.connection_ids()
    return JSONResponse({"connection_ids": known})


async def admin_faults(request: Request) -> Response:
    faults = _service(request).faults
    if request.method == "PUT":
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise bad_request('send an object of fault knobs, e.g. {"error_rate": 0.1}')
        try:
            faults.reconfigure(**body)
        except (TypeError, ValueError) as error:
            raise bad_request(str(error)) from None
    return JSONResponse(faults.config.faults())


# -- middleware and errors ----------------------------------------------------------


class _Guard:
    """Latency and request faults (API only), then authentication (API and admin)."""

    def __init__(self, app: ASGIApp, faults: Faults, credentials: SandboxCredentials) -> None:
        self.app = app
        self.faults = faults
        self.credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
        if scope["type"] != "http" or not (is_api or path.startswith(ADMIN_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        refusal = await self._api_fault() if is_api else None
        refusal = refusal or self._auth_refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _api_fault(self) -> Response | None:
        refusal = await self.faults.before_request()
        if refusal is None:
            return None
        return error_response(refusal.status, refusal.message, headers=refusal.headers)

    def _auth_refusal(self, scope: Scope) -> Response | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key, secret = headers.get("x-api-key"), headers.get("x-api-secret")
        if key is None or secret is None:
            return error_response(401, "missing X-API-KEY or X-API-SECRET header")
        good_key = hmac.compare_digest(key.encode(), self.credentials.key.encode())
        good_secret = hmac.compare_digest(secret.encode(), self.credentials.secret.encode())
        if not (good_key and good_secret):
            return error_response(401, "invalid API key or secret")
        return None


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpProblem)
    return error_response(exc.status_code, exc.detail, exc.extra)


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, exc.detail, None, headers=exc.headers)


def _routes() -> list[Route]:
    return [
        Route(API_PREFIX + _EXPORTS, exports_collection, methods=["GET", "POST"]),
        Route(
            API_PREFIX + _EXPORTS + "/{export_id:int}",
            export_item,
            methods=["GET", "PATCH", "DELETE"],
        ),
        Route(API_PREFIX + _EXPORTS + "/{export_id:int}/runs", extras.export_runs),
        Route(API_PREFIX + _EXPORTS + "/rest-fill", extras.rest_fill, methods=["POST"]),
        Route(
            API_PREFIX + _EXPORTS.removesuffix("/pipeline/exports") + "/publish-to-db",
            extras.publish_to_db,
            methods=["POST", "PATCH"],
        ),
        Route(
            API_PREFIX + "/workspaces/{workspace_id:int}/export-hosts",
            extras.export_hosts,
            methods=["GET", "PUT"],
        ),
        Route(FILES_PREFIX + "/{export_id:int}/{name}", extras.download),
        Route(API_PREFIX + "/jobs/{job_id:int}", job_item, methods=["GET"]),
        Route(API_PREFIX + "/jobs", job_collection, methods=["GET"]),
        Route(
            API_PREFIX + "/workspaces/{workspace_id:int}/projects/{project_id:int}"
            "/resources/dataview/{dataview_id:int}",
            dataview_resource,
            methods=["GET"],
        ),
        Route(ADMIN_PREFIX + "/health", admin_health, methods=["GET"]),
        Route(ADMIN_PREFIX + "/dataviews", admin_dataviews, methods=["POST"]),
        Route(ADMIN_PREFIX + "/connections", admin_connections, methods=["POST"]),
        Route(ADMIN_PREFIX + "/faults", admin_faults, methods=["GET", "PUT"]),
    ]


def create_app(
    db_path: str | Path,
    config: SandboxConfig | None = None,
    seed_file: str | Path | None = None,
    credentials: SandboxCredentials | None = None,
) -> Starlette:
    """The sandbox app over the SQLite file ``db_path`` (created if missing).

    ``credentials`` default to what the environment names (``from_env``).
    """
    store = Store(db_path)
    if seed_file is not None:
        load_seed(store, seed_file)
    faults = Faults(config if config is not None else SandboxConfig())
    accepted = credentials if credentials is not None else SandboxCredentials.from_env()
    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(_Guard, faults=faults, credentials=accepted)],
        exception_handlers={
            HttpProblem: _problem_handler,
            HTTPException: _http_exception_handler,
        },
    )
    app.state.sandbox = SandboxService(store, faults)
    return app
