"""Django's sessions and CSRF check, as the data-tools site runs them.

- ``csrf_refusal`` is ``CsrfViewMiddleware`` for unsafe methods: an
  ``Origin`` header, when sent, must be the site's own; over https a
  same-site ``Referer`` is required; the ``csrftoken`` cookie must be there
  and the token (the form's ``csrfmiddlewaretoken`` for a POST form, else the
  ``X-CSRFToken`` header) must equal it. It runs before the login check.
- Sessions are rows with an expiry on the sandbox clock; the ``sessionid``
  cookie names one.
- Login checks the password, starts a session and rotates the CSRF token,
  as ``django.contrib.auth.login`` does.

Limitation: Django also accepts a *masked* 64-character form of the token;
the sandbox accepts only the cookie's own value, which is what clients send.
"""

from __future__ import annotations

import hmac
import secrets
import string
import urllib.parse

from starlette.requests import Request
from starlette.responses import Response

from reconciler.providers.datatools.sandbox.seed import check_password
from reconciler.providers.datatools.sandbox.store import Tx

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "UNSAFE_METHODS",
    "authenticate",
    "csrf_refusal",
    "new_csrf_secret",
    "set_cookie",
    "start_session",
]

CSRF_COOKIE = "csrftoken"
SESSION_COOKIE = "sessionid"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_COOKIE_AGE_S = 31449600  # Django's CSRF_COOKIE_AGE: one year
_TOKEN_CHARS = string.ascii_letters + string.digits


def new_csrf_secret() -> str:
    return "".join(secrets.choice(_TOKEN_CHARS) for _ in range(32))


def csrf_refusal(request: Request, form_token: str | None) -> str | None:
    """Why Django's CSRF check refuses this unsafe request, or ``None`` when it passes."""
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if origin is not None:
        if origin != f"{request.url.scheme}://{host}":
            return f"Origin checking failed - {origin} does not match any trusted origins."
    elif request.url.scheme == "https":
        referer = request.headers.get("referer")
        if not referer:
            return "Referer checking failed - no Referer."
        parsed = urllib.parse.urlsplit(referer)
        if parsed.scheme != "https" or parsed.netloc != host:
            return f"Referer checking failed - {referer} does not match any trusted origins."
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie:
        return "CSRF cookie not set."
    token = form_token if form_token is not None else request.headers.get("x-csrftoken")
    if not token:
        return "CSRF token missing."
    if not hmac.compare_digest(token.encode(), cookie.encode()):
        return "CSRF token incorrect."
    return None


def authenticate(tx: Tx, username: str, password: str) -> bool:
    user = tx.user(username)
    return bool(user and user["can_log_in"] and check_password(password, user["password_hash"]))


def start_session(tx: Tx, username: str, expires_at: float) -> str:
    key = secrets.token_hex(16)
    tx.add_session(key, username, expires_at)
    return key


def set_cookie(
    response: Response, name: str, value: str, *, max_age: int, secure: bool, http_only: bool
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=secure, httponly=http_only, samesite="lax"
    )
