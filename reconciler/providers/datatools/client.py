"""The async client for the data-tools export templates and export jobs API.

Requests go through the shared request core (``reconciler.http.api``): its
bound on requests in flight, its retry rules (reads and deletes retried on
transient failures; a POST or PUT that may have landed raises
``MaybeLandedError``) and its error tree. What is data-tools' own:

- the Django session (``session``): the client logs in before its first
  request and once more when an answer says the session has ended, then
  sends the request again. That is safe for writes too: the site refuses a
  request without a session before the view runs;
- the server's generic 400, which means "invalid", "duplicate" and "not
  found" alike. After a 400 the client asks a follow-up question (is the
  template still there? is the name taken?) so the error says which;
- answers parsed into ``wire.Template`` and ``wire.ExportJob``; job ages
  come from the server's clock (``server_clock``).

Never sent: the job retry action. The server resets the job to ``pending``
and never runs it; a fresh job is what a snapshot needs.

Secrets: the password is in the login form only, the session cookie in
per-request headers only; neither appears in a message or ``repr``, even
when a server echoes them (``redaction.hide``).

Downloads go through the shared streaming helper (``reconciler.http.download``:
atomic, redirect-safe) with the session's cookies, after a read of the job
that logs in again if the session ended (a download following the site's
302 would otherwise save its login page).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from reconciler import redaction
from reconciler.errors import ApiError, AuthError, MaybeLandedError, NotFoundError
from reconciler.http.api import ApiClient, ApiSession, Call
from reconciler.http.download import download
from reconciler.http.retry import RetryPolicy
from reconciler.http.server_clock import ServerClock
from reconciler.model import loads_frozen
from reconciler.providers.datatools.cookies import SessionCookies, hide_from_http_logs
from reconciler.providers.datatools.session import log_in, request_headers, session_ended
from reconciler.providers.datatools.settings import DatatoolsSettings, settings_from_env
from reconciler.providers.datatools.snapshots import SnapshotRequest
from reconciler.providers.datatools.templates import natural_key, own_templates
from reconciler.providers.datatools.wire import (
    ExportJob,
    JobPage,
    Template,
    WireError,
    envelope_data,
    parse_job,
    parse_job_page,
    parse_template,
    parse_templates,
)
from reconciler.providers.datatools.wording import DatatoolsWording, Target

__all__ = ["JOB_PAGE_SIZE", "DatatoolsClient", "JobListing", "connect"]

JOB_PAGE_SIZE = 100  # the API's largest page
SCOPE = "datatools"  # what errors name as the scope: the manifest section
T = TypeVar("T")

_TEMPLATE_400 = (
    "the server answers this 400 for any invalid field. Check that the format is one "
    "of csv, json, parquet, excel and the filters have the documented types"
)
_JOB_CREATE_400 = (
    "The server gives no reason. Check that the datasource exists and that user {user!r} "
    "may read it; note that at the current HEAD of the server's code every job create "
    "fails this way (its access check uses a field that does not exist), until the "
    "server is fixed"
)


@dataclass(frozen=True)
class JobListing:
    """Every job of the user (newest first) and the server's time when listed."""

    jobs: tuple[ExportJob, ...]
    server_time: datetime


def connect(
    environ: Mapping[str, str] | None = None,
    *,
    endpoint: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    parallelism: int = 8,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
) -> DatatoolsClient:
    """A client configured from ``DATATOOLS_*`` (``ConfigError`` saying what is missing)."""
    settings = settings_from_env(os.environ if environ is None else environ, endpoint=endpoint)
    return DatatoolsClient(
        settings, transport=transport, parallelism=parallelism, timeout=timeout, retry=retry
    )


def _call(method: str, path: str, action: str, target: Target, key: str | None = None) -> Call:
    return Call(method, path, action, SCOPE, key, target)


class DatatoolsClient(ApiClient):
    """Async access to one data-tools site as one user; use it with ``async with``."""

    def __init__(
        self,
        settings: DatatoolsSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = 8,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._retry = retry
        super().__init__(
            ApiSession(
                settings.base_url,
                {},
                DatatoolsWording(),
                transport=transport,
                parallelism=parallelism,
                timeout=timeout,
                retry=retry,
            )
        )
        self._cookies = SessionCookies(secure_transport=settings.base_url.startswith("https:"))
        hide_from_http_logs()
        redaction.hide([settings.password])  # a server may echo the login form
        self._clock = ServerClock()
        self._login_lock = asyncio.Lock()
        self._logins = 0  # how many logins succeeded; a request notes which session it used
        self._api_path = settings.api_path
        self.username = settings.username

    def __repr__(self) -> str:
        return f"DatatoolsClient({self.endpoint!r}, username={self.username!r})"

    def server_now(self) -> datetime:
        """The server's time now, from the latest answer's ``Date``."""
        return self._clock.now()

    # -- the session -------------------------------------------------------------

    async def log_in(self) -> None:
        """Log in now (requests also log in by themselves when needed)."""
        await self._renew(self._logins)

    async def _renew(self, seen: int) -> None:
        """Log in, unless another request did since the session ``seen`` was used."""
        async with self._login_lock:
            if self._logins == seen:
                await log_in(self._api, self._cookies, self._settings, self._retry)
                self._logins += 1

    async def _send(
        self, call: Call, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> httpx.Response:
        """One request in the session: log in first if needed, and again once if it ended."""
        if not self._logins:
            await self._renew(0)
        for retried in (False, True):
            seen = self._logins
            headers = request_headers(self._cookies, call.method, self._settings.base_url)
            reply = await self._api.send(call, params=params, body=body, headers=headers)
            self._cookies.take(reply.response)
            self._clock.observe(reply.response)
            if not session_ended(reply.response):
                return reply.response
            if not retried:
                await self._renew(seen)
        if reply.response.status_code == 403:
            raise AuthError(self._api.wording.auth_failure(403, self.endpoint), status_code=403)
        raise AuthError(
            f"The data-tools site at {self.endpoint} ended the session of user "
            f"{self.username!r} again right after a fresh login, so {call.action} could not "
            "be done. Check that the user is active and may use the site.",
            status_code=reply.response.status_code,
            method=call.method,
            path=call.path,
        )

    def _parsed(self, call: Call, response: httpx.Response, parse: Callable[[Any], T]) -> T:
        """``parse`` applied to the answer's envelope data; ``ApiError`` if it has no such shape."""
        body = self._api.json(call, response, loads_frozen)
        try:
            return parse(envelope_data(body))
        except WireError as error:
            problem = str(error)
        raise self._api.unexpected(call, response, problem)

    def _refuse(self, call: Call, response: httpx.Response, hint: str | None = None) -> ApiError:
        """The error an answer with an unwanted status means (raised here when the core's fits).

        Without a ``hint`` the core's wording fits (``AuthError`` for 403 and so
        on), except for the API's own 403 (JSON: "not your template").
        """
        status = response.status_code
        if hint is None and status != 403:
            self._api.check(call, response)
        if status < 400:
            return self._api.unexpected(call, response, f"status {status} was not expected")
        detail = self._api.wording.detail(response)
        said = f"the API answered {status}: {detail.rstrip('.')}"
        hint = hint or "Only its owner may change it"  # the API's own 403
        return ApiError(
            f"Could not {self._api.wording.subject(call)}: {said}. {hint}.",
            status_code=status,
            detail=detail,
            method=call.method,
            path=call.path,
            scope=SCOPE,
            key=call.key,
        )

    # -- templates -------------------------------------------------------------------

    def _templates_path(self, template_id: str | None = None) -> str:
        return f"{self._api_path}export-templates/" + (f"{template_id}/" if template_id else "")

    async def list_own_templates(self) -> list[Template]:
        """The user's own active templates (the listing's system and shared ones of others dropped).

        Deactivated templates are not listed by the server; ``get_template`` still reads them.
        """
        call = _call("GET", self._templates_path(), "list the export templates", Target("template"))
        response = await self._send(call)
        if response.status_code != 200:
            raise self._refuse(call, response)
        return own_templates(self._parsed(call, response, parse_templates), self.username)

    async def get_template(self, template_id: str, *, key: str | None = None) -> Template:
        """One template by id; ``NotFoundError`` when it is gone or not visible to the user."""
        action = f"read export template {template_id}"
        call = _call("GET", self._templates_path(template_id), action, Target("template"), key)
        return await self._get(call, "export template", template_id, parse_template)

    async def create_template(self, body: Mapping[str, Any], *, key: str | None = None) -> Template:
        """POST a new template (see ``templates.create_body``)."""
        call = _call(
            "POST", self._templates_path(), "create an export template", Target("template"), key
        )
        response = await self._send(call, body=body)
        if response.status_code == 201:
            return self._parsed(call, response, parse_template)
        if response.status_code != 400:
            raise self._refuse(call, response)
        raise await self._explain_create(call, response, body)

    async def _explain_create(
        self, call: Call, response: httpx.Response, body: Mapping[str, Any]
    ) -> ApiError:
        """Why a create got the generic 400: a name already taken, or something invalid."""
        name = body.get("name")
        if isinstance(name, str):
            for template in await self.list_own_templates():
                if natural_key(template.name) == natural_key(name):
                    return self._refuse(
                        call,
                        response,
                        f"User {self.username!r} already has a template named {name!r} "
                        f"(id {template.id}); names are unique per user",
                    )
        hint = (
            f"{_TEMPLATE_400}, and that no deactivated template named {name!r} exists "
            "(the listing hides deactivated templates, but their names stay taken)"
        )
        return self._refuse(call, response, hint)

    async def update_template(
        self, template_id: str, body: Mapping[str, Any], *, key: str | None = None
    ) -> Template:
        """PUT changes to a template (``templates.update_body``; PUT merges ``configuration``)."""
        action = f"update export template {template_id}"
        call = _call(
            "PUT", self._templates_path(template_id), action, Target("template", template_id), key
        )
        response = await self._send(call, body=body)
        if response.status_code == 200:
            return self._parsed(call, response, parse_template)
        if response.status_code == 400:
            await self.get_template(template_id, key=key)  # NotFoundError when it is gone
            raise self._refuse(call, response, _TEMPLATE_400 + ", and that the name is not taken")
        raise self._refuse(call, response)

    async def delete_template(self, template_id: str, *, key: str | None = None) -> None:
        """DELETE a template; ``NotFoundError`` when it is already gone."""
        action = f"delete export template {template_id}"
        call = _call(
            "DELETE",
            self._templates_path(template_id),
            action,
            Target("template", template_id),
            key,
        )
        response = await self._send(call)
        if response.status_code == 200:
            return
        if response.status_code == 400:
            await self.get_template(template_id, key=key)  # NotFoundError when it is gone
        raise self._refuse(call, response)

    async def _get(self, call: Call, kind: str, item_id: str, parse: Callable[[Any], T]) -> T:
        """Read one item by id: the API's 400 for an unknown one becomes ``NotFoundError``.

        (A 404 here can only mean no such URL: a wrong prefix, which the
        core's wording explains.)
        """
        response = await self._send(call)
        if response.status_code == 400:
            detail = self._api.wording.detail(response)
            raise NotFoundError(
                f"Could not {self._api.wording.subject(call)}: {kind} {item_id} does not exist "
                f"or is not visible to user {self.username!r} (the API answered 400: {detail}).",
                status_code=400,
                detail=detail,
                method=call.method,
                path=call.path,
                scope=SCOPE,
                key=call.key,
            )
        if response.status_code != 200:
            raise self._refuse(call, response)
        return self._parsed(call, response, parse)

    # -- export jobs ---------------------------------------------------------------------

    def _jobs_path(self, job_id: str | None = None, action: str | None = None) -> str:
        path = f"{self._api_path}exports/"
        if job_id:
            path += f"{job_id}/"
        return path + (f"{action}/" if action else "")

    async def list_jobs(self, *, datasource: str | None = None) -> JobListing:
        """Every job of the user, optionally of one datasource (a UUID), across all pages."""
        action = "list the export jobs" + (f" of datasource {datasource}" if datasource else "")
        call = _call("GET", self._jobs_path(), action, Target("export job"))
        jobs: dict[str, ExportJob] = {}
        page_number = 1
        while True:
            page = await self._job_page(call, page_number, datasource)
            fresh = [job for job in page.jobs if job.id not in jobs]
            jobs.update((job.id, job) for job in fresh)
            # Limitation: offset paging over a live table. A job created meanwhile
            # repeats one already read (dropped by id); one deleted meanwhile moves
            # an older job onto a page already read, missed until the next listing.
            # A page of nothing new ends it: a server ignoring ``page`` loops for ever.
            if not page.has_next or page.current_page < page_number or not fresh:
                break
            page_number += 1
        ordered = sorted(jobs.values(), key=lambda job: job.created_at, reverse=True)
        return JobListing(tuple(ordered), self._clock.now())

    async def _job_page(self, call: Call, number: int, datasource: str | None) -> JobPage:
        params: dict[str, Any] = {"page": number, "page_size": JOB_PAGE_SIZE}
        if datasource:
            params["datasource"] = datasource
        response = await self._send(call, params=params)
        if response.status_code != 200:
            raise self._refuse(call, response)
        return self._parsed(call, response, parse_job_page)

    async def get_job(self, job_id: str, *, key: str | None = None) -> ExportJob:
        """One job by id; ``NotFoundError`` when it is gone or another user's."""
        call = _call(
            "GET", self._jobs_path(job_id), f"read export job {job_id}", Target("export job"), key
        )
        return await self._get(call, "export job", job_id, parse_job)

    async def create_job(self, request: SnapshotRequest, *, key: str | None = None) -> ExportJob:
        """Start an export job. Its answer always says ``pending``: poll ``get_job``.

        Never resent blindly (the server has no idempotency key): a lost
        answer, and a 400 saying the job was saved but not queued, raise
        ``MaybeLandedError`` so the caller lists the jobs first.
        """
        action = f"start an export of datasource {request.datasource} as {request.format}"
        call = _call("POST", self._jobs_path(), action, Target("export job"), key)
        response = await self._send(call, body=request.body())
        if response.status_code == 201:
            return self._parsed(call, response, parse_job)
        detail = self._api.wording.detail(response)
        if response.status_code == 400 and detail.startswith("Export job creation failed"):
            raise MaybeLandedError(
                f"Could not {self._api.wording.subject(call)}: the server saved the job but "
                f"could not queue it ({detail}). Such a job stays pending and never runs; "
                "list the jobs, cancel and delete it, and try again when the server's "
                "task queue works.",
                status_code=400,
                detail=detail,
                method=call.method,
                path=call.path,
                scope=SCOPE,
                key=key,
            )
        if response.status_code != 400:
            raise self._refuse(call, response)
        if detail == "Error creating export job":
            raise self._refuse(call, response, _JOB_CREATE_400.format(user=self.username))
        raise self._refuse(call, response, "Check the datasource id and the format")

    async def cancel_job(self, job_id: str, *, key: str | None = None) -> ExportJob:
        """Cancel a pending or processing job (a processing one may still end ``completed``)."""
        path = self._jobs_path(job_id, "cancel")
        call = _call("POST", path, f"cancel export job {job_id}", Target("export job", job_id), key)
        response = await self._send(call)
        if response.status_code == 200:
            return self._parsed(call, response, parse_job)
        if response.status_code == 409:
            raise self._refuse(call, response, "Only a pending or processing job can be cancelled")
        raise self._refuse(call, response)

    async def delete_job(self, job_id: str, *, key: str | None = None) -> None:
        """Delete a finished job and its file; ``NotFoundError`` when it is already gone."""
        path = self._jobs_path(job_id)
        call = _call(
            "DELETE", path, f"delete export job {job_id}", Target("export job", job_id), key
        )
        response = await self._send(call)
        if response.status_code == 200:
            return
        if response.status_code == 409:
            hint = "Wait until it ends, or cancel it (a processing job may still complete)"
            raise self._refuse(call, response, hint)
        if response.status_code == 400:
            await self.get_job(job_id, key=key)  # NotFoundError when it is gone
        raise self._refuse(call, response)

    async def download_job(self, job_id: str, destination: Path, *, key: str | None = None) -> int:
        """Write a completed job's file to ``destination`` atomically; its size in bytes."""
        job = await self.get_job(job_id, key=key)  # logs in again if the session ended
        if job.status != "completed":
            raise ApiError(
                f"Could not download export job {job_id}: it is {job.status}, not completed.",
                scope=SCOPE,
                key=key,
            )
        url = f"{self._settings.base_url}/{self._jobs_path(job_id, 'download')}"
        return await download(
            url,
            destination,
            what=f"download export job {job_id} to {destination}",
            headers=request_headers(self._cookies, "GET", self._settings.base_url),
            transport=self._transport,
            retry=self._retry,
        )
