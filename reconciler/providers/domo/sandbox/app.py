"""The Domo sandbox as one ASGI app: the S3 export API plus admin routes.

Routes under ``/api/query/v1/export`` are Domo's real paths; ``/_sandbox/domo``
holds the sandbox's own. Both need the ``X-DOMO-Developer-Token`` header
with the sandbox's token; the shared fault knobs (latency, 503s, 429s,
commit-then-fail) apply to the API only. Every answer carries a ``Date``
header from the sandbox clock, as a real server's does from its own, so a
client that ages exports by the server's time follows ``advance``.

Errors have the body Domo's public APIs answer with: ``status``,
``statusReason``, ``message`` and a ``toe`` trace id.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import uuid
from collections.abc import Mapping
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.providers.domo.sandbox.s3 import LocalS3, s3_folder
from reconciler.providers.domo.sandbox.service import DomoSandboxService
from reconciler.providers.domo.sandbox.settings import DomoSandboxSettings
from reconciler.providers.domo.sandbox.store import Store
from reconciler.providers.domo.sandbox.validation import parse_export_body
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.drop import DropConnectionResponse
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.problems import HttpProblem, bad_request

__all__ = ["ADMIN_PREFIX", "API_PREFIX", "create_app", "sandbox_service"]

API_PREFIX = "/api/query/v1/export"
ADMIN_PREFIX = "/_sandbox/domo"
TOKEN_HEADER = b"x-domo-developer-token"
_COMMIT_THEN_FAIL = "sandbox fault: the export was started, but the answer failed (503)"


def sandbox_service(app: Starlette) -> DomoSandboxService:
    service: DomoSandboxService = app.state.domo
    return service


def _service(request: Request) -> DomoSandboxService:
    return sandbox_service(request.app)


def _error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {
        "status": status,
        "statusReason": HTTPStatus(status).phrase,
        "message": message,
        "toe": str(uuid.uuid4()).upper(),
    }
    return JSONResponse(body, status_code=status, headers=headers)


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON.") from None


# -- /api/query/v1/export ------------------------------------------------------------


async def dataset_exports(request: Request) -> Response:
    service = _service(request)
    dataset_id: str = request.path_params["dataset_id"]
    if request.method == "GET":
        return JSONResponse(await run_in_threadpool(service.exports, dataset_id))
    ask = parse_export_body(await _json_body(request), dataset_id)
    outcome = await run_in_threadpool(service.start_export, dataset_id, ask)
    if outcome.failure == "drop":
        return DropConnectionResponse()
    if outcome.failure == "503":
        return _error_response(503, _COMMIT_THEN_FAIL)
    return JSONResponse(outcome.body, status_code=outcome.status_code)


# -- /_sandbox/domo ------------------------------------------------------------------


async def admin_datasets(request: Request) -> Response:
    """Create a DataSet: ``{"id"?, "rows"?, "columns"?, "readable"?}``."""
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise bad_request('Send an object, e.g. {"id": "<uuid>", "rows": 100}.')
    dataset_id = body.get("id")
    rows = body.get("rows", 1000)
    columns = body.get("columns")
    readable = body.get("readable", True)
    if dataset_id is not None and not (isinstance(dataset_id, str) and dataset_id):
        raise bad_request("id must be a non-empty string.")
    if not _count(rows):
        raise bad_request("rows must be an integer >= 0.")
    if columns is not None and not (
        isinstance(columns, list) and all(isinstance(c, str) and c for c in columns)
    ):
        raise bad_request("columns must be a list of non-empty names.")
    if not isinstance(readable, bool):
        raise bad_request("readable must be true or false.")
    dataset, created = await run_in_threadpool(
        _service(request).create_dataset, dataset_id, rows=rows, columns=columns, readable=readable
    )
    return JSONResponse(dataset, status_code=201 if created else 200)


async def admin_bump(request: Request) -> Response:
    """New data in the DataSet: ``{"rows"?}`` sets its new row count."""
    body = await _json_body(request) if await request.body() else {}
    rows = body.get("rows") if isinstance(body, dict) else None
    if rows is not None and not _count(rows):
        raise bad_request("rows must be an integer >= 0.")
    dataset_id: str = request.path_params["dataset_id"]
    dataset = await run_in_threadpool(_service(request).bump_dataset, dataset_id, rows)
    return JSONResponse(dataset)


async def admin_clock(request: Request) -> Response:
    """Read the sandbox time, or move it forward: ``{"advance_s": seconds}``."""
    clock = _service(request).clock
    if request.method == "POST":
        body = await _json_body(request)
        seconds = body.get("advance_s") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise bad_request('Send {"advance_s": seconds}, a number >= 0.')
        clock.advance(seconds)
    now = clock.now_datetime().isoformat(timespec="milliseconds")
    return JSONResponse({"now": now, "offset_s": clock.offset_s})


async def admin_faults(request: Request) -> Response:
    faults = _service(request).faults
    if request.method == "PUT":
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise bad_request('Send an object of fault knobs, e.g. {"error_rate": 0.1}.')
        try:
            faults.reconfigure(**body)
        except (TypeError, ValueError) as error:
            raise bad_request(str(error)) from None
    return JSONResponse(faults.config.faults())


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# -- middleware and errors -----------------------------------------------------------


class _Guard:
    """The sandbox clock's ``Date`` on every answer; faults (API only), then the token."""

    def __init__(
        self, app: ASGIApp, faults: Faults, clock: SandboxClock, settings: DomoSandboxSettings
    ) -> None:
        self.app = app
        self.faults = faults
        self.clock = clock
        self.token = settings.token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._dated(send)
        path: str = scope.get("path", "")
        is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
        refusal = await self._api_fault() if is_api else None
        if refusal is None and (is_api or path.startswith(ADMIN_PREFIX + "/")):
            refusal = self._auth_refusal(scope)
        await (refusal or self.app)(scope, receive, send)

    def _dated(self, send: Send) -> Send:
        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                date = formatdate(self.clock.now(), usegmt=True).encode()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", date)]}
            await send(message)

        return dated

    async def _api_fault(self) -> Response | None:
        config = self.faults.config
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        fault = self.faults.request_fault()
        if fault == "error":
            return _error_response(503, "sandbox fault: service unavailable (error_rate)")
        if fault == "throttle":
            retry_after = f"{config.retry_after_s:g}"
            message = f"sandbox fault: too many requests, retry after {retry_after} s"
            return _error_response(429, message, {"Retry-After": retry_after})
        return None

    def _auth_refusal(self, scope: Scope) -> Response | None:
        given = next((v for k, v in scope["headers"] if k.lower() == TOKEN_HEADER), None)
        if given is None or not hmac.compare_digest(given, self.token):
            return _error_response(401, "Access is denied. Your token is invalid or expired.")
        return None


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpProblem)
    return _error_response(exc.status_code, exc.detail)


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error_response(exc.status_code, exc.detail, exc.headers)


def _routes() -> list[Route]:
    return [
        Route(API_PREFIX + "/{dataset_id}", dataset_exports, methods=["GET", "POST"]),
        Route(ADMIN_PREFIX + "/datasets", admin_datasets, methods=["POST"]),
        Route(ADMIN_PREFIX + "/datasets/{dataset_id}/bump", admin_bump, methods=["POST"]),
        Route(ADMIN_PREFIX + "/clock", admin_clock, methods=["GET", "POST"]),
        Route(ADMIN_PREFIX + "/faults", admin_faults, methods=["GET", "PUT"]),
    ]


def create_app(
    db_path: str | Path,
    *,
    config: SandboxConfig | None = None,
    clock: SandboxClock | None = None,
    settings: DomoSandboxSettings | None = None,
) -> Starlette:
    """The Domo sandbox over the SQLite file ``db_path`` (created if missing).

    ``config`` holds the shared fault knobs (``job_delay_ms`` is how long an
    export runs, ``job_failure_rate`` how many fail); ``settings`` the token
    and timestamp form, from the environment when not given. Finished
    exports' files go to the folder ``s3_folder(db_path)`` names.
    """
    faults = Faults(config if config is not None else SandboxConfig())
    clock = clock if clock is not None else SandboxClock()
    settings = settings if settings is not None else DomoSandboxSettings.from_env()
    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(_Guard, faults=faults, clock=clock, settings=settings)],
        exception_handlers={
            HttpProblem: _problem_handler,
            HTTPException: _http_exception_handler,
        },
    )
    s3 = LocalS3(s3_folder(Path(db_path)))
    app.state.domo = DomoSandboxService(Store(db_path), faults, clock, settings, s3)
    return app
