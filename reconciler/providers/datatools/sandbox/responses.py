"""The answers a Django site gives: the views' JSON envelope and Django's own pages.

The export views answer ``{"success": true, "message", "data"}`` or
``{"success": false, "error"}``. Everything a request meets before a view
(no such URL, a wrong method, a failed CSRF check, a missing session) is
Django's: HTML pages, an empty 405, a redirect to the login page. A proxy in
front of the site answers the shared faults (503, 429) with plain pages.
"""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Iterable

from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

__all__ = [
    "LOGIN_URL",
    "csrf_failure",
    "login_redirect",
    "not_allowed",
    "page_not_found",
    "proxy_page",
    "refusal",
    "slash_redirect",
    "slash_server_error",
]

LOGIN_URL = "/accounts/login/"


def refusal(error: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"success": False, "error": error}, status_code=status)


def _page(
    title: str, body: str, status: int, headers: dict[str, str] | None = None
) -> HTMLResponse:
    text = f'<!doctype html>\n<html lang="en">\n<head><title>{title}</title></head>\n'
    return HTMLResponse(f"{text}<body>\n{body}\n</body>\n</html>\n", status, headers=headers)


def page_not_found() -> HTMLResponse:
    """Django's 404 page (debug off): an unknown URL, or an unknown job on an action route."""
    body = "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>"
    return _page("Not Found", body, 404)


def not_allowed(allowed: Iterable[str]) -> Response:
    """Django's ``HttpResponseNotAllowed``: an empty body and an ``Allow`` header."""
    return Response(b"", 405, headers={"Allow": ", ".join(allowed)}, media_type="text/html")


def csrf_failure(reason: str) -> HTMLResponse:
    body = (
        "<h1>Forbidden <span>(403)</span></h1>\n<p>CSRF verification failed. Request aborted.</p>"
        f"\n<p>Reason given for failure:</p>\n<pre>\n    {html.escape(reason)}\n</pre>"
    )
    return _page("403 Forbidden", body, 403)


def login_redirect(path: str) -> RedirectResponse:
    """``login_required``'s answer: a 302 to the login page, coming back to ``path``."""
    return RedirectResponse(f"{LOGIN_URL}?next={urllib.parse.quote(path)}", 302)


def slash_redirect(path: str, query: str) -> RedirectResponse:
    """``APPEND_SLASH`` for a GET: a permanent redirect to the slashed URL."""
    return RedirectResponse(f"{path}/" + (f"?{query}" if query else ""), 301)


def slash_server_error(method: str, path: str) -> HTMLResponse:
    """``APPEND_SLASH`` for a write in debug mode: Django refuses to lose the body."""
    body = (
        f"<h1>RuntimeError at {html.escape(path)}</h1><p>You called this URL via {method}, "
        "but the URL doesn't end in a slash and you have APPEND_SLASH set.</p>"
    )
    return _page(f"RuntimeError at {html.escape(path)}", body, 500)


def proxy_page(status: int, reason: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A reverse proxy's plain error page (the sandbox's 503 and 429 faults)."""
    title = f"{status} {reason}"
    return _page(title, f"<h1>{title}</h1>", status, headers)
