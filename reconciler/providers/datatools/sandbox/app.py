"""The data-tools sandbox as one ASGI app: the site's login, its export API, admin routes.

Paths are the real site's: ``/accounts/login/`` and ``API_PREFIX``
(``/tools/api/v1``) with trailing slashes. A request meets what it would
meet in Django, in Django's order: URL resolution (an id that is not a
lower-case UUID is no URL: HTML 404; a missing trailing slash is a 301 for a
GET and a debug-mode 500 otherwise), the CSRF check for writes (403 page),
``login_required`` (302 to the login page), the method (empty 405), then the
view. Every answer's ``Date`` is the sandbox clock's, so a client ageing jobs
by the server's clock sees time move when a test moves the clock.

The shared fault knobs (``reconciler.sandbox.config``) apply to the whole
site, login page included, as trouble in front of it would: latency, 503
and 429 (as pages from a proxy), job delay and failure, commit then fail. Admin routes live under
``ADMIN_PREFIX`` and need the login user's credentials as HTTP Basic auth.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import math
import os
import re
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from email.utils import formatdate
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.providers.datatools.sandbox import auth, responses
from reconciler.providers.datatools.sandbox.knobs import DatatoolsKnobs
from reconciler.providers.datatools.sandbox.seed import load_seed_file, seed, set_login_user
from reconciler.providers.datatools.sandbox.service import (
    DatatoolsService,
    File,
    Missing,
    Refused,
    Reply,
)
from reconciler.providers.datatools.sandbox.store import Store
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.drop import DropConnectionResponse
from reconciler.sandbox.faults import Faults

__all__ = ["ADMIN_PREFIX", "API_PREFIX", "LOGIN_PATH", "create_app", "sandbox_service"]

API_PREFIX = "/tools/api/v1"
ADMIN_PREFIX = "/_sandbox/datatools"
LOGIN_PATH = responses.LOGIN_URL
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MAX_BODY = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE
_LOGIN_ERROR = (
    "Please enter a correct username and password. Note that both fields may be case-sensitive."
)
_ALLOWED = {  # Django's ``Allow`` header: the view's methods in http_method_names order
    "jobs": ("GET", "POST", "DELETE", "HEAD", "OPTIONS"),
    "templates": ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"),
    "actions": ("GET", "POST", "HEAD", "OPTIONS"),
}

Handler = Callable[[Request, str], Awaitable[Response]]


def sandbox_service(app: Starlette) -> DatatoolsService:
    service: DatatoolsService = app.state.datatools
    return service


def _service(request: Request) -> DatatoolsService:
    return sandbox_service(request.app)


# -- request bodies ------------------------------------------------------------------------


async def _form(request: Request) -> dict[str, str]:
    """A urlencoded POST form, as ``request.POST.dict()`` (the last value of a name wins)."""
    if request.method != "POST" or not _media_type(request).endswith("x-www-form-urlencoded"):
        return {}
    return dict(urllib.parse.parse_qsl((await request.body()).decode("latin-1")))


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _body(request: Request, json_field: str, generic: str) -> Any:
    """The view's reading of a body: JSON only as ``application/json``, else the POST form.

    A PUT that is not JSON reads as an empty form (Django parses forms for POST
    only). Returns the ``Refused`` that reading ends in instead of raising, so
    the service can refuse in the view's order.
    """
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        return Refused(generic)
    if _media_type(request) != "application/json":
        data: dict[str, Any] = dict(await _form(request))
        if isinstance(data.get(json_field), str):
            try:
                data[json_field] = json.loads(data[json_field])
            except ValueError:
                return Refused("Invalid JSON data")
        return data
    try:
        return json.loads(raw)
    except ValueError:
        return Refused("Invalid JSON data")


# -- the export API --------------------------------------------------------------------------


def _answer(result: Reply | File) -> Response:
    if isinstance(result, File):
        disposition = f'attachment; filename="{result.filename}"'
        return Response(
            result.content,
            media_type=result.content_type,
            headers={"Content-Disposition": disposition},
        )
    if result.after_commit == "drop":
        return DropConnectionResponse()
    if result.after_commit == "503":
        return responses.proxy_page(503, "Service Unavailable")
    return JSONResponse(result.body, status_code=result.status)


def _view(kind: str, handlers: Mapping[str, Handler]) -> Callable[[Request], Awaitable[Response]]:
    """A Django view behind its middleware: id check, CSRF, login, method, then ``handlers``."""

    async def endpoint(request: Request) -> Response:
        pk = request.path_params.get("pk")
        if pk is not None and not _UUID.fullmatch(pk):
            return responses.page_not_found()
        if request.method in auth.UNSAFE_METHODS:
            token = (await _form(request)).get("csrfmiddlewaretoken")
            reason = auth.csrf_refusal(request, token)
            if reason is not None:
                return responses.csrf_failure(reason)
        service = _service(request)
        key = request.cookies.get(auth.SESSION_COOKIE)
        user = await run_in_threadpool(service.session_user, key) if key else None
        if user is None:
            return responses.login_redirect(request.url.path)
        if request.method == "OPTIONS":
            return Response(b"", headers={"Allow": ", ".join(_ALLOWED[kind])})
        handler = handlers.get("GET" if request.method == "HEAD" else request.method)
        if handler is None:
            return responses.not_allowed(_ALLOWED[kind])
        try:
            return await handler(request, user)
        except Refused as refused:
            return responses.refusal(refused.error, refused.status)
        except Missing:
            return responses.page_not_found()

    return endpoint


async def _call(method: Callable[..., Reply | File], *args: Any) -> Response:
    """A service method, run in the threadpool (SQLite blocks), as an answer."""
    return _answer(await run_in_threadpool(method, *args))


async def _list_templates(request: Request, user: str) -> Response:
    return await _call(_service(request).list_templates, user, dict(request.query_params))


async def _create_template(request: Request, user: str) -> Response:
    data = await _body(request, "configuration", "Error creating export template")
    return await _call(_service(request).create_template, user, data)


async def _collection_without_id(request: Request, user: str) -> Response:
    noun = "Template" if "templates" in request.url.path else "Export job"
    return responses.refusal(f"{noun} ID is required")


async def _post_to_item(request: Request, user: str) -> Response:
    return responses.refusal("Invalid endpoint for creation", 405)


async def _get_template(request: Request, user: str) -> Response:
    return await _call(_service(request).get_template, user, request.path_params["pk"])


async def _update_template(request: Request, user: str) -> Response:
    data = await _body(request, "configuration", "Error updating export template")
    return await _call(_service(request).update_template, user, request.path_params["pk"], data)


async def _delete_template(request: Request, user: str) -> Response:
    return await _call(_service(request).delete_template, user, request.path_params["pk"])


async def _list_jobs(request: Request, user: str) -> Response:
    return await _call(_service(request).list_jobs, user, dict(request.query_params))


async def _create_job(request: Request, user: str) -> Response:
    data = await _body(request, "filters", "Error creating export job")
    return await _call(_service(request).create_job, user, data)


async def _get_job(request: Request, user: str) -> Response:
    return await _call(_service(request).get_job, user, request.path_params["pk"])


async def _delete_job(request: Request, user: str) -> Response:
    return await _call(_service(request).delete_job, user, request.path_params["pk"])


def _job_action(action: str) -> Handler:
    async def handle(request: Request, user: str) -> Response:
        job_id = request.path_params["pk"]
        return await _call(_service(request).job_action, user, job_id, action, request.method)

    return handle


# -- the login page ------------------------------------------------------------------------


def _login_page(token: str, error: str | None = None) -> HTMLResponse:
    problem = f'<p class="errornote">{error}</p>' if error else ""
    body = (
        f'<h2>Log in</h2>{problem}<form method="post">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        '<input name="username"><input type="password" name="password">'
        '<button type="submit">Log in</button></form>'
    )
    head = "<!doctype html><html><head><title>Log in</title></head>"
    return HTMLResponse(f"{head}<body>{body}</body></html>")


async def login(request: Request) -> Response:
    service = _service(request)
    secure = service.knobs.secure_cookies
    if request.method == "GET":
        token = request.cookies.get(auth.CSRF_COOKIE) or auth.new_csrf_secret()
        page = _login_page(token)
        if auth.CSRF_COOKIE not in request.cookies:
            _csrf_cookie(page, token, secure)
        return page
    form = await _form(request)
    reason = auth.csrf_refusal(request, form.get("csrfmiddlewaretoken"))
    if reason is not None:
        return responses.csrf_failure(reason)
    username, password = form.get("username", ""), form.get("password", "")
    session = await run_in_threadpool(service.log_in, username, password)
    if session is None:
        return _login_page(request.cookies[auth.CSRF_COOKIE], _LOGIN_ERROR)
    target = form.get("next", "")
    answer = RedirectResponse(target if target.startswith("/") else "/projects/", 302)
    ttl = math.ceil(service.knobs.session_ttl_s)  # whole seconds, and never 0 (a deletion)
    auth.set_cookie(
        answer, auth.SESSION_COOKIE, session, max_age=ttl, secure=secure, http_only=True
    )
    _csrf_cookie(answer, auth.new_csrf_secret(), secure)  # rotated at login, as Django does
    return answer


def _csrf_cookie(response: Response, token: str, secure: bool) -> None:
    age = auth.CSRF_COOKIE_AGE_S
    auth.set_cookie(response, auth.CSRF_COOKIE, token, max_age=age, secure=secure, http_only=False)


# -- admin -----------------------------------------------------------------------------------


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Refused("send a JSON object")
    return body


async def admin(request: Request) -> Response:
    """One endpoint for the admin routes (see ``docs/providers/datatools.md``)."""
    service = _service(request)
    route = request.path_params["route"]
    try:
        if route == "health" and request.method == "GET":
            return JSONResponse({"status": "ok"})
        if route == "datasources" and request.method == "GET":
            return JSONResponse({"datasources": await run_in_threadpool(service.datasources)})
        if route == "faults":
            if request.method == "PUT":
                service.faults.reconfigure(**await _json_object(request))
            return JSONResponse(service.faults.config.faults())
        if route == "knobs":
            if request.method == "PUT":
                service.knobs = service.knobs.replace(**await _json_object(request))
            return JSONResponse(service.knobs.as_dict())
        if route == "clock" and request.method == "POST":
            seconds = (await _json_object(request)).get("advance_s")
            if not isinstance(seconds, int | float) or isinstance(seconds, bool):
                raise Refused('send {"advance_s": <seconds>}')
            offset = service.clock.advance(seconds)
            now = service.clock.now_datetime().isoformat()
            return JSONResponse({"offset_s": offset, "now": now})
        if route == "sessions/expire" and request.method == "POST":
            return JSONResponse({"ended": await run_in_threadpool(service.end_sessions)})
        if route == "cleanup-expired" and request.method == "POST":
            return JSONResponse({"expired": await run_in_threadpool(service.cleanup)})
    except Refused as refused:
        return JSONResponse({"error": refused.error}, status_code=400)
    except (TypeError, ValueError) as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse({"error": f"no admin route {request.method} {route}"}, status_code=404)


# -- middleware -------------------------------------------------------------------------------


class _Site:
    """Faults for the site, Basic auth for admin, Django's slash rule, and the clock's ``Date``."""

    def __init__(
        self, app: ASGIApp, service: DatatoolsService, username: str, password: str
    ) -> None:
        self.app = app
        self.service = service
        self._basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._dated(send)
        path: str = scope["path"]
        is_admin = path.startswith(ADMIN_PREFIX + "/")
        refusal = None if is_admin else await self._fault()
        if is_admin and not self._admin_allowed(scope):
            refusal = JSONResponse(
                {"error": "admin routes need the sandbox login as HTTP Basic auth"},
                401,
                headers={"WWW-Authenticate": 'Basic realm="sandbox"'},
            )
        refusal = refusal or self._slash(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _dated(self, send: Send) -> Send:
        date = formatdate(self.service.clock.now(), usegmt=True).encode()

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", date)]}
            await send(message)

        return dated

    async def _fault(self) -> Response | None:
        config = self.service.faults.config
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        fault = self.service.faults.request_fault()
        if fault == "error":
            return responses.proxy_page(503, "Service Unavailable")
        if fault == "throttle":
            wait = f"{config.retry_after_s:g}"
            return responses.proxy_page(429, "Too Many Requests", {"Retry-After": wait})
        return None

    def _admin_allowed(self, scope: Scope) -> bool:
        given = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        return hmac.compare_digest(given.encode(), self._basic.encode())

    def _slash(self, scope: Scope) -> Response | None:
        """Django's ``APPEND_SLASH``: only when the URL with a slash would exist."""
        path: str = scope["path"]
        if path.endswith("/") or not _resolves({**scope, "path": path + "/"}):
            return None
        if scope["method"] in ("GET", "HEAD"):
            return responses.slash_redirect(path, scope.get("query_string", b"").decode("latin-1"))
        return responses.slash_server_error(scope["method"], path)


def _resolves(scope: Scope) -> bool:
    return any(route.matches(scope)[0] is not Match.NONE for route in _SITE_ROUTES)


_ITEM = "/{pk}/"
_ANY = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]  # the views say 405
_SITE_ROUTES = [  # the Django site's own URLs
    Route(LOGIN_PATH, login, methods=["GET", "POST"]),
    Route(
        API_PREFIX + "/exports/",
        _view("jobs", {"GET": _list_jobs, "POST": _create_job, "DELETE": _collection_without_id}),
        methods=_ANY,
    ),
    Route(
        API_PREFIX + "/exports" + _ITEM,
        _view("jobs", {"GET": _get_job, "POST": _post_to_item, "DELETE": _delete_job}),
        methods=_ANY,
    ),
    *(
        Route(
            API_PREFIX + "/exports" + _ITEM + action + "/",
            _view("actions", {"GET": _job_action(action), "POST": _job_action(action)}),
            methods=_ANY,
        )
        for action in ("cancel", "download", "retry")
    ),
    Route(
        API_PREFIX + "/export-templates/",
        _view(
            "templates",
            {
                "GET": _list_templates,
                "POST": _create_template,
                "PUT": _collection_without_id,
                "DELETE": _collection_without_id,
            },
        ),
        methods=_ANY,
    ),
    Route(
        API_PREFIX + "/export-templates" + _ITEM,
        _view(
            "templates",
            {
                "GET": _get_template,
                "POST": _post_to_item,
                "PUT": _update_template,
                "DELETE": _delete_template,
            },
        ),
        methods=_ANY,
    ),
]
_ROUTES = [
    *_SITE_ROUTES,
    Route(ADMIN_PREFIX + "/{route:path}", admin, methods=["GET", "PUT", "POST"]),
]


async def _not_found(request: Request, exc: Exception) -> Response:
    return responses.page_not_found()


def create_app(
    db_path: str | Path,
    *,
    config: SandboxConfig | None = None,
    clock: SandboxClock | None = None,
    knobs: DatatoolsKnobs | None = None,
    environ: Mapping[str, str] | None = None,
    seed_file: Path | None = None,
) -> Starlette:
    """The sandbox over the SQLite file ``db_path`` (created and seeded if new).

    The login user is ``DATATOOLS_USERNAME`` / ``DATATOOLS_PASSWORD`` from
    ``environ`` (default: the process environment), else ``sandbox`` / ``sandbox``.
    A new database is seeded from ``seed_file``'s ``datatools:`` key when it
    has one, else with the built-in seed; a bad key is a ``ConfigError``.
    """
    env = os.environ if environ is None else environ
    username = env.get("DATATOOLS_USERNAME") or "sandbox"
    password = env.get("DATATOOLS_PASSWORD") or "sandbox"
    data = load_seed_file(seed_file, username) if seed_file is not None else None
    clock = clock or SandboxClock()
    store = Store(db_path)
    with store.transaction() as tx:
        seed(tx, clock.now(), data)
        set_login_user(tx, username, password)
    faults = Faults(config or SandboxConfig())
    service = DatatoolsService(store, faults, clock, knobs or DatatoolsKnobs(), username)
    app = Starlette(routes=_ROUTES, exception_handlers={404: _not_found})
    app.router.redirect_slashes = False  # Django's rule, not starlette's (see _Site._slash)
    app.add_middleware(_Site, service=service, username=username, password=password)
    app.state.datatools = service
    return app
