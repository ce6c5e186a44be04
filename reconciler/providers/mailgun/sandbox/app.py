"""The Mailgun sandbox as one ASGI app: the exports API, its files, admin routes.

Paths are the real ones: ``/v3/exports`` (``API_PREFIX``) as on
api.mailgun.net, so a client needs only its base URL pointed here. Files are
served under ``/_s3/mailgun-exports`` (the S3 bucket's stand-in), admin
routes under ``/_sandbox/mailgun``.

- The API and admin routes want HTTP Basic auth, user ``api`` and the key
  found in ``MAILGUN_API_KEY`` when the app is made (default ``sandbox``).
  Files want their link's signature instead, as S3 does.
- Fault knobs (``SandboxConfig``) apply to the API only: latency, 503s
  (``error_rate``), 429s (``throttle_rate``) carrying ``X-RateLimit-Reset``
  ``retry_after_s`` ahead on the sandbox clock, commit-then-fail on create,
  ``job_delay_ms`` for how long an export processes and
  ``job_failure_rate`` for exports that never complete. ``job_rate`` has no
  meaning here: every export is background work.
- Every answer's ``Date`` is the sandbox clock's, so clients that age
  exports by the server's time see the clock move. (uvicorn adds a ``Date``
  of its own unless started with ``date_header=False``.)
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.providers.mailgun.sandbox.service import FILES_PREFIX, MailgunSandbox
from reconciler.providers.mailgun.sandbox.signing import LinkProblem
from reconciler.providers.mailgun.sandbox.store import Store
from reconciler.sandbox.clock import SandboxClock, dated
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.drop import DropConnectionResponse
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.problems import HttpProblem, bad_request

__all__ = ["ADMIN_PREFIX", "API_PREFIX", "FILES_PREFIX", "create_app", "sandbox_service"]

API_PREFIX = "/v3/exports"
ADMIN_PREFIX = "/_sandbox/mailgun"
DEFAULT_API_KEY = "sandbox"
_COMMIT_THEN_FAIL = "sandbox fault: the export was created, but the answer failed (503)"


def sandbox_service(app: Starlette) -> MailgunSandbox:
    service: MailgunSandbox = app.state.mailgun
    return service


def _service(request: Request) -> MailgunSandbox:
    return sandbox_service(request.app)


def _message(status_code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """Mailgun's error body, ``{"message": ...}``."""
    return JSONResponse({"message": message}, status_code=status_code, headers=headers)


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("the request body is not valid JSON") from None


# -- /v3/exports ----------------------------------------------------------------------


async def exports_collection(request: Request) -> Response:
    service = _service(request)
    if request.method == "GET":
        url = request.query_params.get("url")
        return JSONResponse(await run_in_threadpool(service.list, url))
    created = await run_in_threadpool(service.create, await _form_url(request))
    if created.failure == "drop":
        return DropConnectionResponse()
    if created.failure == "503":
        return _message(503, _COMMIT_THEN_FAIL)
    return JSONResponse(created.body)


async def _form_url(request: Request) -> str | None:
    """The ``url`` field as Go's ``FormValue`` reads it: the form body first, then the query.

    Only urlencoded bodies are read (multipart would need python-multipart).
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type.startswith("multipart/"):
        raise bad_request(
            "the sandbox reads form fields from application/x-www-form-urlencoded bodies "
            "only: send url that way or in the query string"
        )
    if media_type == "application/x-www-form-urlencoded":
        text = (await request.body()).decode("utf-8", "replace")
        values = urllib.parse.parse_qs(text, keep_blank_values=True).get("url")
        if values:
            return values[0]
    return request.query_params.get("url")


async def export_item(request: Request) -> Response:
    export_id: str = request.path_params["export_id"]
    return JSONResponse(await run_in_threadpool(_service(request).get, export_id))


async def export_link(request: Request) -> Response:
    export_id: str = request.path_params["export_id"]
    root = str(request.base_url)
    location = await run_in_threadpool(_service(request).download_link, export_id, root)
    return RedirectResponse(location, status_code=302)


# -- files ----------------------------------------------------------------------------


async def export_file(request: Request) -> Response:
    name: str = request.path_params["name"]
    query = dict(request.query_params)
    authorization = request.headers.get("authorization")
    try:
        body = await run_in_threadpool(_service(request).file, name, query, authorization)
    except LinkProblem as problem:
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{problem.code}</Code><Message>{problem.message}</Message></Error>"
        )
        return Response(xml, status_code=problem.status_code, media_type="application/xml")
    return Response(body, media_type="text/csv")


# -- /_sandbox/mailgun ----------------------------------------------------------------


def _clock_state(clock: SandboxClock) -> dict[str, Any]:
    return {"now": clock.now_datetime().isoformat(), "offset_s": clock.offset_s}


async def admin_clock(request: Request) -> Response:
    """``POST {"advance_s": N}`` moves the clock forward; ``GET`` shows it."""
    clock = _service(request).clock
    if request.method == "POST":
        body = await _json_body(request)
        seconds = body.get("advance_s") if isinstance(body, dict) else None
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise bad_request('send {"advance_s": N} with N seconds >= 0')
        clock.advance(seconds)
    return JSONResponse(_clock_state(clock))


async def admin_faults(request: Request) -> Response:
    faults = _service(request).faults
    if request.method == "PUT":
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise bad_request('send an object of fault knobs, e.g. {"throttle_rate": 0.1}')
        try:
            faults.reconfigure(**body)
        except (TypeError, ValueError) as error:
            raise bad_request(str(error)) from None
    return JSONResponse(faults.config.faults())


async def admin_lists(request: Request) -> Response:
    """``POST {"url": "/v3/domains", "rows": [{...}]}`` adds rows to an API list."""
    body = await _json_body(request)
    url = body.get("url") if isinstance(body, dict) else None
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(url, str) or not isinstance(rows, list):
        raise bad_request('send {"url": "/v3/<list>", "rows": [{"field": "value"}, ...]}')
    if not all(isinstance(row, dict) for row in rows):
        raise bad_request("every row must be an object")
    result = await run_in_threadpool(_service(request).add_rows, url, rows)
    return JSONResponse(result, status_code=201)


# -- middleware and errors ------------------------------------------------------------


class _Guard:
    """The clock's ``Date`` on every answer; faults (API only), then Basic auth."""

    def __init__(self, app: ASGIApp, faults: Faults, clock: SandboxClock, api_key: str) -> None:
        self.app = app
        self.faults = faults
        self.clock = clock
        self._expected = f"api:{api_key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sending = dated(send, self.clock)
        path: str = scope.get("path", "")
        is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
        is_admin = path.startswith(ADMIN_PREFIX + "/")
        refusal = await self._api_fault() if is_api else None
        if refusal is None and (is_api or is_admin):
            refusal = self._auth_refusal(scope)
        await (refusal or self.app)(scope, receive, sending)

    async def _api_fault(self) -> Response | None:
        """The shared fault draw, with Mailgun's 429: ``X-RateLimit-Reset`` in Unix
        seconds on the sandbox clock, instead of ``Retry-After``."""
        refusal = await self.faults.before_request()
        if refusal is None:
            return None
        if refusal.status != 429:
            return _message(refusal.status, refusal.message)
        wait = self.faults.config.retry_after_s
        detail = f"sandbox fault: too many requests, limit resets in {wait:g} s"
        reset = f"{self.clock.now() + wait:.3f}"
        return _message(429, detail, headers={"X-RateLimit-Reset": reset})

    def _auth_refusal(self, scope: Scope) -> Response | None:
        for name, value in scope["headers"]:
            if name.lower() == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "basic" and _same(token.strip(), self._expected):
                    return None
        return _message(401, "Invalid private key", {"WWW-Authenticate": 'Basic realm="MG API"'})


def _same(token: str, expected: bytes) -> bool:
    """Whether a Basic token decodes to ``expected``, compared in constant time."""
    try:
        given = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, expected)


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpProblem)
    return _message(exc.status_code, exc.detail)


def _routes() -> list[Route]:
    return [
        Route(API_PREFIX, exports_collection, methods=["GET", "POST"]),
        Route(API_PREFIX + "/{export_id}", export_item, methods=["GET"]),
        Route(API_PREFIX + "/{export_id}/download_url", export_link, methods=["GET"]),
        Route(FILES_PREFIX + "/{name}", export_file, methods=["GET"]),
        Route(ADMIN_PREFIX + "/clock", admin_clock, methods=["GET", "POST"]),
        Route(ADMIN_PREFIX + "/faults", admin_faults, methods=["GET", "PUT"]),
        Route(ADMIN_PREFIX + "/lists", admin_lists, methods=["POST"]),
    ]


def create_app(
    db_path: str | Path,
    *,
    config: SandboxConfig | None = None,
    clock: SandboxClock | None = None,
    environ: Mapping[str, str] | None = None,
) -> Starlette:
    """The Mailgun sandbox over the SQLite file ``db_path`` (created if missing).

    ``config`` gives the fault knobs (its credentials are Mammoth's and are
    not used); the accepted key comes from ``MAILGUN_API_KEY`` in
    ``environ`` (default: the process environment), else ``sandbox``.
    ``clock`` is shared with other providers' sandboxes in one server.
    """
    env = os.environ if environ is None else environ
    api_key = env.get("MAILGUN_API_KEY") or DEFAULT_API_KEY
    faults = Faults(config if config is not None else SandboxConfig())
    the_clock = clock if clock is not None else SandboxClock()
    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(_Guard, faults=faults, clock=the_clock, api_key=api_key)],
        exception_handlers={HttpProblem: _problem_handler},
    )
    app.router.redirect_slashes = False  # as Mailgun's router: /v3/exports/ is not /v3/exports
    app.state.mailgun = MailgunSandbox(Store(db_path), faults, the_clock)
    return app
