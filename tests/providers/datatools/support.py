"""Helpers for the data-tools tests: a sandbox on a loopback socket, and its admin routes.

``Site`` is what the ``site`` fixture yields: the running app, its root URL and
clock, settings for a client logged in as the sandbox user, and the admin
routes the tests use to move time, end sessions or turn faults on.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette

from reconciler.http.retry import RetryPolicy
from reconciler.providers.datatools.client import DatatoolsClient
from reconciler.providers.datatools.sandbox.app import ADMIN_PREFIX, sandbox_service
from reconciler.providers.datatools.sandbox.service import DatatoolsService
from reconciler.providers.datatools.settings import DatatoolsSettings
from reconciler.sandbox.clock import SandboxClock

T = TypeVar("T")

USER, PASSWORD = "sandbox", "sandbox"
# Building an SSL context costs ~0.1 s, and httpx builds one per client unless given one.
SSL_CONTEXT = ssl.create_default_context()
# Retries without waiting: the rules under test are which requests are retried, not how long.
NO_WAIT = RetryPolicy(max_attempts=5, base_delay=0, max_delay=0, jitter=False)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass(frozen=True)
class Site:
    app: Starlette
    root_url: str
    clock: SandboxClock

    @property
    def service(self) -> DatatoolsService:
        return sandbox_service(self.app)

    def settings(self, username: str = USER, password: str = PASSWORD) -> DatatoolsSettings:
        return DatatoolsSettings(self.root_url, "tools/", username, password)

    def client(
        self, username: str = USER, password: str = PASSWORD, **kwargs: Any
    ) -> DatatoolsClient:
        kwargs.setdefault("retry", NO_WAIT)
        return DatatoolsClient(self.settings(username, password), **kwargs)

    def admin(self, method: str, route: str, **kwargs: Any) -> httpx.Response:
        url = f"{self.root_url}{ADMIN_PREFIX}/{route}"
        auth = (USER, PASSWORD)
        return httpx.request(method, url, auth=auth, timeout=10, verify=SSL_CONTEXT, **kwargs)

    def advance(self, seconds: float) -> None:
        assert self.admin("POST", "clock", json={"advance_s": seconds}).status_code == 200

    def set_faults(self, **knobs: Any) -> None:
        assert self.admin("PUT", "faults", json=knobs).status_code == 200

    def set_knobs(self, **knobs: Any) -> None:
        assert self.admin("PUT", "knobs", json=knobs).status_code == 200


def leaked(error: BaseException, *secrets: str) -> list[str]:
    """Every text of ``error`` and what it chains that contains one of ``secrets``."""
    texts, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), *(repr(v) for v in vars(current).values())]
        current = current.__cause__ or current.__context__
    return [text for text in texts if any(secret in text for secret in secrets)]


API = "/tools/api/v1"


class Browser:
    """A raw HTTP client that logs in the way a browser does, to test the sandbox itself."""

    def __init__(self, site: Site | str) -> None:
        """On a ``Site`` of this process, or at a root URL (a server run as a command)."""
        root_url = site if isinstance(site, str) else site.root_url
        self.http = httpx.Client(base_url=root_url, timeout=10, verify=SSL_CONTEXT)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.http.close()

    def log_in(self, username: str = USER, password: str = PASSWORD) -> httpx.Response:
        self.http.get("/accounts/login/")
        form = {"username": username, "password": password, "csrfmiddlewaretoken": self.token}
        return self.http.post("/accounts/login/", data=form)

    @property
    def token(self) -> str:
        return self.http.cookies.get("csrftoken") or ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def write(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A POST, PUT or DELETE with the CSRF token, as the site's JavaScript sends it."""
        headers = {"X-CSRFToken": self.token, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)


class Recording(httpx.AsyncBaseTransport):
    """A socket transport that notes every exchange, for tests that count or read them."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport(verify=SSL_CONTEXT)
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        await response.aread()
        self.exchanges.append((request, response))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()

    def seen(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of each exchange, in order."""
        return [(q.method, q.url.path, a.status_code) for q, a in self.exchanges]

    def cookie_values(self, name: str) -> list[str]:
        """Every value the server set for cookie ``name``."""
        values = []
        for _, answer in self.exchanges:
            for header in answer.headers.get_list("set-cookie"):
                if header.startswith(name + "="):
                    values.append(header.split(";")[0].split("=", 1)[1])
        return values
