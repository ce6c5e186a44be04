"""The site's cookies: ``csrftoken`` and the session cookie, kept for one endpoint.

The shared request core (``reconciler.http.api``) has no cookie jar: its
transport hands back bare answers, and every other provider authenticates
with headers. Django needs two cookies back on every request, so this small
jar reads ``Set-Cookie`` from each answer and builds the ``Cookie`` header.

It follows what a browser does with the attributes that matter here: an
empty value or ``Max-Age=0`` deletes a cookie (Django's logout and token
rotation), and a ``Secure`` cookie is never sent over plain http (a Django
site outside debug mode marks both cookies ``Secure``), so the login can say
"use https" instead of failing obscurely. Domain and path are not tracked:
the jar serves a single site.

The values are credentials: ``repr`` shows only the cookie names,
``hide_from_http_logs`` keeps them out of httpcore's debug log, which
prints every answer's headers (``Set-Cookie`` included) when enabled, and
each value is scrubbed from what a server says back (``redaction.hide``).
"""

from __future__ import annotations

import logging
import re
from http.cookies import CookieError, SimpleCookie

import httpx

from reconciler import redaction

__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "SessionCookies", "hide_from_http_logs"]

CSRF_COOKIE = "csrftoken"
SESSION_COOKIE = "sessionid"


class SessionCookies:
    """Cookies set by one site; ``secure_transport`` says whether it is reached over https."""

    def __init__(self, *, secure_transport: bool) -> None:
        self._secure_transport = secure_transport
        self._values: dict[str, tuple[str, bool]] = {}  # name -> (value, Secure)

    def __repr__(self) -> str:
        return f"SessionCookies(names={sorted(self._values)})"

    def take(self, response: httpx.Response) -> None:
        """Remember (or forget) what the answer's ``Set-Cookie`` headers say."""
        for header in response.headers.get_list("set-cookie"):
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(header)
            except CookieError:
                continue  # a cookie Python cannot read is not one of Django's
            for name, morsel in parsed.items():
                if not morsel.value or morsel["max-age"] == "0":
                    self._values.pop(name, None)
                else:
                    self._values[name] = (morsel.value, bool(morsel["secure"]))
                    redaction.hide([morsel.value])

    def get(self, name: str) -> str | None:
        """A cookie's value if it may be sent over this transport."""
        found = self._values.get(name)
        if found is None or (found[1] and not self._secure_transport):
            return None
        return found[0]

    def withheld(self, name: str) -> bool:
        """Whether the site set ``name`` as ``Secure`` and the transport is plain http."""
        found = self._values.get(name)
        return found is not None and found[1] and not self._secure_transport

    def forget(self, name: str) -> None:
        self._values.pop(name, None)

    def header(self) -> str:
        """The ``Cookie`` header to send: every cookie this transport may carry."""
        sendable = (name for name in sorted(self._values) if self.get(name) is not None)
        return "; ".join(f"{name}={self._values[name][0]}" for name in sendable)


# httpcore logs answer headers as a tuple's repr: (b'set-cookie', b'sessionid=...; Path=/')
_LOGGED_SET_COOKIE = re.compile(r"(b(['\"])set-cookie\2, b)(['\"]).*?\3\)", re.IGNORECASE)
_HTTP_LOGGERS = ("httpcore.http11", "httpcore.http2")


class _HideSetCookie(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "set-cookie" in record.msg.lower():
            record.msg = _LOGGED_SET_COOKIE.sub(r"\1\3[hidden]\3)", record.msg)
        return True


_FILTER = _HideSetCookie()


def hide_from_http_logs() -> None:
    """Blank ``Set-Cookie`` values in httpcore's debug log (idempotent)."""
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
