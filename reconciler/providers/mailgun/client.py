"""The async client for Mailgun's exports API, on the shared request core.

Four calls, as the last published docs and the Go client have them: create
an export of an API URL (``POST /v3/exports``, form field ``url``), list the
exports of the last 24 hours (``GET /v3/exports``, optional ``url`` filter),
get one (``GET /v3/exports/{id}``) and resolve its file
(``GET /v3/exports/{id}/download_url``: a 302 to a temporary signed URL,
which is never followed here and never shown).

``reconciler.http.api.ApiSession`` does the retries and the error tree;
this module adds Mailgun's auth (HTTP Basic, user ``api``, the private key as
password), its settings, its error body (``{"message"}``) and its rate-limit
header: a 429 carries ``X-RateLimit-Reset`` in Unix seconds on the server's
clock, so the wait is measured against the answer's ``Date``, not ours.

Mailgun's API has been undocumented since 2019, so every answer is read
leniently (``{"items": null}``, any content type, a create answer without
the export) and a missing endpoint says so on the first call.
"""

from __future__ import annotations

import base64
import os
import re
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from reconciler.errors import ApiError, ConfigError
from reconciler.http.api import ApiClient, ApiSession, Call, StandardWording, body_detail
from reconciler.http.download import download
from reconciler.http.retry import RetryPolicy
from reconciler.http.server_clock import date_header_time
from reconciler.http.transport import endpoint_label
from reconciler.http.urls import base_url_problem
from reconciler.model import LiveRun, RunState
from reconciler.providers.mailgun.kinds import live_runs, normalize_url, request_url, url_identity
from reconciler.providers.mailgun.wire import Export, parse_created, parse_export, parse_items

__all__ = [
    "REGION_BASE_URLS",
    "Created",
    "Listing",
    "MailgunClient",
    "base_url_from",
    "connect",
]

REGION_BASE_URLS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}
EXPORTS_PATH = "v3/exports"
# The statuses the Go client takes for success; anything else is an error there too.
_ACCEPTED = frozenset({200, 202, 204})
_VERSION_SEGMENT = re.compile(r"v\d+")


@dataclass(frozen=True)
class Listing:
    """The exports of the last 24 hours, oldest first, and the server's time.

    ``server_time`` is the answer's ``Date``: ages must be measured on the
    clock that stamped the ids. Without a readable ``Date`` it is this
    machine's time, and ``server_clock`` is False.
    """

    exports: tuple[Export, ...]
    server_time: datetime
    server_clock: bool

    def runs(self) -> tuple[LiveRun, ...]:
        """The exports as the core's runs, aged at ``server_time``, the newest first."""
        return live_runs(self.exports, self.server_time)


@dataclass(frozen=True)
class Created:
    """What a create request achieved.

    ``export`` is the new export when the answer names it (the docs' answer
    does, the Go mock's does not: then list the URL to find it). With
    ``already_running`` Mailgun refused because an export of the URL is still
    in progress, and ``export`` is that one: wait for it instead.
    """

    export: Export | None
    already_running: bool = False


def _call(
    method: str, path: str, action: str, key: str | None, export_id: str | None = None
) -> Call:
    """A call; ``about`` is the export id a 404 would be about."""
    return Call(method, path, action, None, key, export_id)


class MailgunClient(ApiClient):
    """Async access to one Mailgun API host; use it with ``async with``.

    ``transport`` replaces the network (the in-process sandbox); downloads
    then go through it too, since the file's URL is on the same server.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = 8,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        token = base64.b64encode(f"api:{api_key}".encode()).decode("ascii")
        super().__init__(
            ApiSession(
                base_url,
                {"Authorization": f"Basic {token}", "Accept": "application/json"},
                _MailgunWording(),
                transport=transport,
                parallelism=parallelism,
                timeout=timeout,
                retry=retry,
            )
        )
        self._base_url = base_url.rstrip("/")
        self._download_transport = transport
        self._retry = retry
        self._timeout = timeout

    async def create_export(self, url: str, *, key: str | None = None) -> Created:
        """Ask Mailgun to export the API list at ``url`` (any spelling of it).

        Sent as ``/v3/<list>``, the docs' form. A 400 is Mailgun's answer
        when an export of the URL is still processing, but also to a bad
        request: only when a listing shows one in progress is it taken as
        ``already_running``; otherwise the 400 is raised. A lost answer raises
        ``MaybeLandedError``: list the URL before asking again.
        """
        identity = normalize_url(url)
        call = _call("POST", EXPORTS_PATH, f"request an export of {identity!r}", key)
        reply = await self._api.send(call, form={"url": request_url(url)})
        if reply.response.status_code == 400:
            running = await self._running(identity, key)
            if running is not None:
                return Created(running, already_running=True)
        self._check(call, reply.response)
        body = self._api.json(call, reply.response) if reply.response.content else None
        return Created(parse_created(body))

    async def _running(self, identity: str, key: str | None) -> Export | None:
        listing = await self.list_exports(identity, key=key)
        running = {run.run_id for run in listing.runs() if run.state is RunState.RUNNING}
        return next((e for e in reversed(listing.exports) if e.id in running), None)

    async def list_exports(self, url: str | None = None, *, key: str | None = None) -> Listing:
        """The exports of the last 24 hours; with ``url``, only those of that URL.

        The filter is sent, and applied here again on normalized URLs: the
        Go mock ignores it, and the server stores URLs in another spelling.
        """
        identity = None if url is None else normalize_url(url)
        action = "list the exports" + ("" if identity is None else f" of {identity!r}")
        call = _call("GET", EXPORTS_PATH, action, key)
        params = None if url is None else {"url": request_url(url)}
        reply = await self._api.send(call, params=params)
        self._check(call, reply.response)
        body = self._api.json(call, reply.response)
        problem = None
        try:
            exports = parse_items(body)
        except ValueError as exc:
            problem = str(exc)
        if problem is not None:
            raise self._api.unexpected(call, reply.response, problem)
        if identity is not None:
            exports = tuple(e for e in exports if url_identity(e.url) == identity)
        server_time = date_header_time(reply.response)
        return Listing(exports, server_time or datetime.now(UTC), server_time is not None)

    async def get_export(self, export_id: str, *, key: str | None = None) -> Export:
        """One export by id; ``NotFoundError`` once it is gone (after 24 hours)."""
        path = f"{EXPORTS_PATH}/{_quoted(export_id)}"
        call = _call("GET", path, f"read export {export_id}", key, export_id)
        reply = await self._api.send(call)
        self._check(call, reply.response)
        body = self._api.json(call, reply.response)
        problem = None
        try:
            export = parse_export(body)
        except ValueError as exc:
            problem = str(exc)
        if problem is not None:
            raise self._api.unexpected(call, reply.response, problem)
        return export

    async def download_url(self, export_id: str, *, key: str | None = None) -> str:
        """The temporary URL of a complete export's CSV, from Mailgun's 302.

        The URL is signed: use it at once, and show it nowhere. Any answer but
        a redirect is an error, as in the Go client.
        """
        path = f"{EXPORTS_PATH}/{_quoted(export_id)}/download_url"
        call = _call("GET", path, f"get the download link of export {export_id}", key, export_id)
        reply = await self._api.send(call)
        response = reply.response
        location = response.headers.get("location")
        if response.status_code == 302 and location:
            return str(httpx.URL(f"{self._base_url}/{path}").join(location))
        self._api.check(call, response)
        raise self._api.unexpected(call, response, "expected a 302 redirect to the export's file")

    async def download(
        self, export_id: str, path: str | os.PathLike[str], *, key: str | None = None
    ) -> int:
        """Fetch a complete export's CSV to ``path`` (atomically); the bytes written.

        The signed link is resolved right before the download, as the docs
        advise; the API key is not sent to the file's host.
        """
        link = await self.download_url(export_id, key=key)
        about = f" (snapshot key {key!r})" if key else ""
        return await download(
            link,
            path,
            what=f"download export {export_id}{about} to {str(Path(path))!r}",
            transport=self._download_transport,
            retry=self._retry,
            timeout=self._timeout,
        )

    def _check(self, call: Call, response: httpx.Response) -> None:
        """Accept only what the Go client accepts; say clearly when the endpoint is gone."""
        status = response.status_code
        if status in _ACCEPTED:
            return
        if status == 405:
            raise ApiError(
                f"Could not {self._api.wording.subject(call)}: {self.endpoint} does not take "
                f"{call.method} /{call.path} (405). Mailgun has not documented the exports API "
                "since 2019 and may have withdrawn it; check MAILGUN_BASE_URL / MAILGUN_REGION.",
                status_code=status,
                method=call.method,
                path=call.path,
                key=call.key,
            )
        self._api.check(call, response)
        raise self._api.unexpected(call, response, "expected 200, 202 or 204")


def _quoted(export_id: str) -> str:
    """An id as one path segment: ids are opaque strings."""
    return urllib.parse.quote(export_id, safe="")


class _MailgunWording(StandardWording):
    """How Mailgun's errors read: its settings, its ``{"message"}`` body, its 404s and 429s."""

    service = "the Mailgun API"
    endpoint_setting = "MAILGUN_BASE_URL / MAILGUN_REGION"
    scope_noun = "snapshot"
    key_noun = "snapshot key"

    def detail(self, response: httpx.Response) -> str:
        return body_detail(response, ("message",))

    def auth_failure(self, status: int, endpoint: str) -> str:
        if status == 401:
            return (
                f"Mailgun rejected the API key (401) at {endpoint}. Check MAILGUN_API_KEY (the "
                "account's private API key) and that MAILGUN_BASE_URL / MAILGUN_REGION names "
                "the account's region: the US host refuses an EU account's key."
            )
        return (
            f"Mailgun refused access (403) at {endpoint}: the key in MAILGUN_API_KEY is valid "
            "but may not use the exports API. Check the key's permissions."
        )

    def not_found(self, call: Call, endpoint: str, response: httpx.Response) -> str:
        if isinstance(call.about, str):
            key = f" (snapshot key {call.key!r})" if call.key else ""
            return (
                f"Export {call.about}{key} not found (404) at {endpoint}: Mailgun keeps exports "
                "for 24 hours after creating them, so it may have expired. Run plan again."
            )
        return (
            f"Could not {self.subject(call)}: no exports API at {endpoint}/{EXPORTS_PATH} (404). "
            "Mailgun has not documented it since 2019 and may have withdrawn it; check "
            "MAILGUN_BASE_URL / MAILGUN_REGION."
        )

    def retry_after(self, response: httpx.Response) -> float | None:
        """Seconds until ``X-RateLimit-Reset``, on the server's clock, else ``Retry-After``.

        The reset is a Unix time (fractions allowed) on Mailgun's clock, so it
        is compared with the answer's ``Date``. ``Date`` has whole seconds,
        truncated, so the wait can come out up to a second long, never short.
        """
        reset = _seconds(response.headers.get("x-ratelimit-reset"))
        if reset is None:
            return super().retry_after(response)
        now = date_header_time(response)
        return max(reset - (now.timestamp() if now is not None else time.time()), 0.0)


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return seconds


def connect(
    environ: Mapping[str, str] | None = None,
    *,
    base_url: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    parallelism: int = 8,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
) -> MailgunClient:
    """A client from the environment: ``MAILGUN_API_KEY``, and the host (``base_url_from``).

    ``base_url`` overrides the host settings (a sandbox's root, say);
    ``ConfigError`` names whatever is missing or wrong, never the key.
    """
    env = os.environ if environ is None else environ
    api_key = env.get("MAILGUN_API_KEY", "")
    if not api_key.strip():
        raise ConfigError(
            "MAILGUN_API_KEY is not set. Export your Mailgun private API key in it "
            "(credentials are never taken from flags), or use --sandbox to run against the "
            "embedded sandbox."
        )
    return MailgunClient(
        base_url_from(env, base_url),
        api_key,
        transport=transport,
        parallelism=parallelism,
        timeout=timeout,
        retry=retry,
    )


def base_url_from(env: Mapping[str, str], override: str | None = None) -> str:
    """The API host: ``override``, else ``MAILGUN_BASE_URL``, else ``MAILGUN_REGION`` (us).

    The base is the host alone, like ``https://api.eu.mailgun.net``: the
    client adds ``/v3/exports`` itself, so a base with a version in it is
    refused (as the Go client refuses it) rather than doubled.
    """
    explicit = override or env.get("MAILGUN_BASE_URL", "").strip()
    if explicit:
        source = "the endpoint" if override else "MAILGUN_BASE_URL"
        problem = _base_url_problem(explicit)
        if problem:
            raise ConfigError(
                f"{source} {problem}. Expected the API host alone, like "
                f"{REGION_BASE_URLS['us']} or {REGION_BASE_URLS['eu']}, or leave it unset and "
                "set MAILGUN_REGION=us|eu."
            )
        return explicit.rstrip("/")
    region = env.get("MAILGUN_REGION", "").strip().lower() or "us"
    if region not in REGION_BASE_URLS:
        raise ConfigError(
            f"MAILGUN_REGION is {region!r}; set it to us or eu, the region of your Mailgun "
            "account, or set MAILGUN_BASE_URL to the API host."
        )
    return REGION_BASE_URLS[region]


def _base_url_problem(url: str) -> str | None:
    """The shared checks, then Mailgun's own: no API version in the base."""
    problem = base_url_problem(url, credentials="set MAILGUN_API_KEY")
    if problem is not None:
        return problem
    versions = [s for s in httpx.URL(url).path.split("/") if _VERSION_SEGMENT.fullmatch(s)]
    if versions:
        return (
            f"({endpoint_label(url)}) must not include the API version /{versions[0]}: "
            "exportctl adds /v3/exports itself"
        )
    return None
