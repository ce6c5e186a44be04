"""The Django session: logging in, what each request carries, when it has ended.

Logging in is what a browser does with the site's login form:

1. ``GET /accounts/login/`` sets the ``csrftoken`` cookie;
2. ``POST /accounts/login/`` as a form with ``username``, ``password`` and
   ``csrfmiddlewaretoken`` (the cookie's value). Success is a 302 with a
   ``sessionid`` cookie; a wrong password is a 200 with the form again;
   a failed CSRF check a 403 page. Django rotates ``csrftoken`` at login, so
   the new cookie is what later requests must send.

Every request then carries both cookies; every POST, PUT and DELETE also
carries the token as ``X-CSRFToken`` and a same-site ``Referer`` (Django
checks it over https). A session that has ended shows as a 302 to the login
page (a safe request) or a 403 page (an unsafe one, whose CSRF check runs
first), never as JSON: ``session_ended`` tells those apart from the API's
own 403 ("not your template"), which is JSON.

The password goes into the login form's body only. No message here shows
it, and errors are raised outside ``except`` blocks so none is chained.
"""

from __future__ import annotations

import httpx

from reconciler.errors import ApiError, AuthError, ConfigError, MaybeLandedError
from reconciler.http.api import ApiSession, Call
from reconciler.http.retry import RetryPolicy
from reconciler.providers.datatools.cookies import CSRF_COOKIE, SESSION_COOKIE, SessionCookies
from reconciler.providers.datatools.settings import DatatoolsSettings

__all__ = ["LOGIN_PATH", "log_in", "request_headers", "session_ended"]

LOGIN_PATH = "accounts/login/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_headers(cookies: SessionCookies, method: str, site: str) -> dict[str, str]:
    """The headers one API request needs: the cookies, and for a write the CSRF token."""
    headers = {"Accept": "application/json"}
    cookie = cookies.header()
    if cookie:
        headers["Cookie"] = cookie
    if method not in SAFE_METHODS:
        headers["X-CSRFToken"] = cookies.get(CSRF_COOKIE) or ""
        headers["Referer"] = f"{site}/"
    return headers


def session_ended(response: httpx.Response) -> bool:
    """Whether the answer says "log in first" rather than anything about the request."""
    if response.status_code in (301, 302, 303):
        location = httpx.URL(response.headers.get("location", ""))
        return location.path.endswith("/" + LOGIN_PATH)
    return response.status_code == 403 and not _is_json(response)


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


async def log_in(
    api: ApiSession,
    cookies: SessionCookies,
    settings: DatatoolsSettings,
    retry: RetryPolicy | None = None,
) -> None:
    """Log in as ``settings.username``; afterwards ``cookies`` hold the new session.

    A login whose answer is lost is sent again, as ``retry`` (default: the
    core's policy) says.
    """
    cookies.forget(SESSION_COOKIE)
    page = Call("GET", LOGIN_PATH, "open the site's login page")
    reply = await api.send(page, headers=request_headers(cookies, "GET", settings.base_url))
    cookies.take(reply.response)
    api.check(page, reply.response)
    token = cookies.get(CSRF_COOKIE)
    if token is None:
        raise _no_cookie(api, page, reply.response, CSRF_COOKIE, cookies)
    post = Call("POST", LOGIN_PATH, f"log in as {settings.username!r}")
    response = await _post_login(api, post, cookies, settings, token, retry or RetryPolicy())
    cookies.take(response)
    if response.status_code == 200:
        raise AuthError(
            f"The data-tools site at {api.endpoint} refused the login of user "
            f"{settings.username!r}: wrong username or password (the site answered with its "
            "login form again). Check DATATOOLS_USERNAME and DATATOOLS_PASSWORD.",
            status_code=200,
            method="POST",
            path=LOGIN_PATH,
        )
    if response.status_code == 403:
        raise AuthError(api.wording.auth_failure(403, api.endpoint), status_code=403)
    if response.status_code != 302 or cookies.get(SESSION_COOKIE) is None:
        raise _no_cookie(api, post, response, SESSION_COOKIE, cookies)


async def _post_login(
    api: ApiSession,
    call: Call,
    cookies: SessionCookies,
    settings: DatatoolsSettings,
    token: str,
    retry: RetryPolicy,
) -> httpx.Response:
    form = {
        "username": settings.username,
        "password": settings.password,
        "csrfmiddlewaretoken": token,
    }
    headers = request_headers(cookies, "POST", settings.base_url)
    headers["Referer"] = f"{settings.base_url}/{LOGIN_PATH}"
    lost: MaybeLandedError | None = None
    for attempt in range(1, retry.max_attempts + 1):
        try:
            reply = await api.send(call, form=form, headers=headers)
        except MaybeLandedError as error:
            lost = error
        else:
            break
        # A login that may have landed is harmless (one more session), so it is
        # sent again, unlike every other write.
        if attempt < retry.max_attempts:
            await retry.sleep(retry.delay(attempt))
    else:
        assert lost is not None
        said = f"answered {lost.status_code}" if lost.status_code else "sent no answer"
        raise ApiError(
            f"Could not {call.action} at {api.endpoint}: the site {said}. Try again later.",
            status_code=lost.status_code,
            method="POST",
            path=LOGIN_PATH,
        )
    if reply.response.status_code != 403:  # a refused CSRF check: the caller says so
        api.check(call, reply.response)
    return reply.response


def _no_cookie(
    api: ApiSession, call: Call, response: httpx.Response, name: str, cookies: SessionCookies
) -> Exception:
    if cookies.withheld(name):
        return ConfigError(
            f"The data-tools site at {api.endpoint} sends its {name} cookie for https only, "
            "so it cannot be used over http. Use an https:// address in DATATOOLS_BASE_URL."
        )
    return api.unexpected(call, response, f"no {name} cookie in the answer")
