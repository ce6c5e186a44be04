"""The async client for Mammoth's pipeline-exports and jobs API.

One ``MammothClient`` holds one ``httpx`` transport (a connection pool; see
``reconciler.http.transport`` for why not an ``httpx.AsyncClient``) and a
semaphore that bounds the requests in flight (``--parallelism``), however many
dataviews are worked on at once. Every request goes through ``_send``, which applies the
retry rules of ``reconciler.http.retry`` and turns failures into the error
tree of ``reconciler.errors``::

    ApiError
    ├── AuthError          401/403
    ├── NotFoundError      404
    └── MaybeLandedError   a POST/PATCH may have taken effect without an answer
    ApiUnreachableError    no HTTP answer, even after retries

Jobs are only read here (``get_jobs``); waiting for them is the applier's one
poll loop (``reconciler.apply.jobs``), which serves every provider.

Secrets: the key and secret live only in the prepared request headers.
Errors are raised outside ``except`` blocks and carry only an exception's type
name and text, never the httpx exception (whose request holds the headers), so
no traceback, ``__cause__`` or ``__context__`` can leak them.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from reconciler.errors import (
    ApiError,
    ApiUnreachableError,
    AuthError,
    MaybeLandedError,
    NotFoundError,
)
from reconciler.http.retry import RetryPolicy, Verdict, classify, parse_retry_after
from reconciler.http.transport import endpoint_label, network_transport
from reconciler.model import DataviewRef, FrozenDict, loads_frozen, thaw
from reconciler.providers.base import IdsFrom
from reconciler.providers.mammoth.jobs import int_or_none

__all__ = [
    "PAGE_SIZE",
    "PATCH_PATHS",
    "MammothClient",
    "MutationResult",
    "endpoint_label",
]

PAGE_SIZE = 100  # the API's maximum ``limit``
# The fields of a listed export that ``LiveExport`` reads. Run results, times
# and error details are most of a ``__full`` record and the plan never looks
# at them, so they are neither sent nor parsed.
LIST_FIELDS = (
    "id,status,sequence,handler_type,trigger_type,end_of_pipeline,"
    "target_properties,condition,additional_properties"
)
JOB_BATCH = 100  # job ids per ``/jobs?job_ids=`` request, to keep URLs short
# ``params`` replaces the export's specification; the others are commands.
PATCH_PATHS = {
    "params": "replace",
    "run": "command",
    "suspend": "command",
    "restore": "command",
    "discard": "command",
}
DETAIL_LIMIT = 500  # characters of a non-JSON error body worth showing
API_ROOT_SUFFIX = "/api/v2"  # the spec's server path: every API URL starts with it


@dataclass(frozen=True)
class MutationResult:
    """The answer to an add, edit, delete or patch.

    ``job_id`` is set when the API works in the background (a 202 with a job,
    or a ``future_id``); the applier polls it through ``get_jobs``. ``already_gone`` marks
    a DELETE whose retry found nothing left to delete: the first attempt landed.
    """

    status_code: int
    trigger_id: int | None
    job_id: int | None
    status: str | None
    body: Any
    already_gone: bool = False

    @classmethod
    def from_response(cls, status_code: int, body: Any) -> MutationResult:
        if not isinstance(body, Mapping):
            return cls(status_code, None, None, None, body)
        job = body.get("job")
        if isinstance(job, Mapping):
            response = job.get("response")
            trigger = response.get("trigger_id") if isinstance(response, Mapping) else None
            return cls(
                status_code,
                int_or_none(trigger),
                int_or_none(job.get("id")),
                _str_or_none(job.get("status")),
                body,
            )
        return cls(
            status_code,
            int_or_none(body.get("trigger_id")),
            int_or_none(body.get("future_id")),
            _str_or_none(body.get("status")),
            body,
        )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class _Call:
    """What one request is about, for retry decisions and error messages."""

    method: str
    path: str  # relative to the base URL; never a query string
    action: str  # completes "Could not ...", e.g. "list the exports of dataview 1/1/2/3"
    dataview: DataviewRef | None = None
    key: str | None = None
    export_id: int | None = None
    ids_from: IdsFrom = "manifest"

    @property
    def subject(self) -> str:
        return self.action + (f" (export key {self.key!r})" if self.key else "")


class _Unsent:
    """The requests that hold a slot but are not on the wire yet.

    Working on an answer (parsing a listing, planning its dataview) takes a
    millisecond or more of CPU on the event loop's one thread. Done before the
    next request goes out, it delays that request by as much, every time: a
    plan of 500 dataviews at 20 ms latency took about 10% longer
    (bench/bench_plan.py). So a task that frees its slot first waits until
    the request that took the slot is sent, as httpcore's ``trace`` events
    tell. A transport without them (the in-process sandbox) shows itself by
    answering a request never reported sent; from then on nobody waits.
    """

    def __init__(self) -> None:
        self._count = 0
        self._none = asyncio.Event()
        self._none.set()
        self._traced = True

    def add(self) -> _Outgoing:
        if self._traced:
            self._count += 1
            self._none.clear()
        return _Outgoing(self)

    def one_sent(self) -> None:
        if self._traced:
            self._count -= 1
            if not self._count:
                self._none.set()

    def untraced(self) -> None:
        self._traced = False
        self._count = 0
        self._none.set()

    async def all_sent(self) -> None:
        await asyncio.sleep(0)  # a task waiting for the freed slot takes it now
        await self._none.wait()


class _Outgoing:
    """One request of ``_Unsent``, from taking a slot until it is sent."""

    def __init__(self, unsent: _Unsent) -> None:
        self._unsent = unsent
        self._pending = True
        self._reported = False

    async def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's ``trace`` extension: told of each step of the exchange."""
        if event.endswith(".send_request_body.complete"):
            self._reported = True
            self.done()

    def answered(self) -> None:
        """The answer is in: if the send was never reported, the transport cannot."""
        if not self._reported:
            self._unsent.untraced()
        self.done()

    def done(self) -> None:
        if self._pending:
            self._pending = False
            self._unsent.one_sent()


@dataclass(frozen=True)
class _Reply:
    response: httpx.Response
    attempts: int


@dataclass(frozen=True)
class _Failure:
    """A transport failure, reduced to what is safe to show (no request, no headers)."""

    kind: type[httpx.TransportError]
    text: str

    def __str__(self) -> str:
        return f"{self.kind.__name__}: {self.text}" if self.text else self.kind.__name__


class MammothClient:
    """Async access to one Mammoth API endpoint; use it with ``async with``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = 8,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if parallelism < 1:
            raise ValueError("parallelism must be at least 1")
        self.endpoint = endpoint_label(base_url)
        self.parallelism = parallelism
        self._retry = retry or RetryPolicy()
        self._slots = asyncio.Semaphore(parallelism)
        self._unsent = _Unsent()
        self._base_url = base_url.rstrip("/")
        self._headers = httpx.Headers(
            {
                "X-API-KEY": api_key,
                "X-API-SECRET": api_secret,
                "Accept": "application/json",
                "User-Agent": "exportctl",
            }
        )
        self._timeout = httpx.Timeout(timeout).as_dict()
        self._transport = transport or network_transport(base_url, parallelism)

    def __repr__(self) -> str:
        return f"MammothClient({self.endpoint!r}, parallelism={self.parallelism})"

    async def __aenter__(self) -> Self:
        await self._transport.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._transport.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        await self._transport.aclose()

    # -- exports -------------------------------------------------------------

    async def list_exports(
        self, ref: DataviewRef, *, ids_from: IdsFrom = "manifest"
    ) -> list[FrozenDict]:
        """Every export of the dataview (``LIST_FIELDS``), across all pages, by id.

        The records come frozen (``loads_frozen``), ready for ``LiveExport``.
        ``ids_from`` says where ``ref`` was written, for the hint of a 404.
        """
        action = f"list the exports of dataview {ref}"
        call = _Call("GET", _exports_path(ref), action, ref, ids_from=ids_from)
        records: list[FrozenDict] = []
        seen: set[Any] = set()
        while True:
            page = await self._list_page(call, offset=len(records))
            exports = page["exports"]
            fresh = [r for r in exports if r.get("id") not in seen]
            if exports and not fresh:
                # Limitation: offset paging under concurrent edits may skip an
                # export; the next plan sees it. A page of only repeats, though,
                # means the server ignores ``offset`` and would loop forever.
                raise ApiError(
                    f"Could not {call.action}: the API returned the same exports again at "
                    f"offset {len(records)}, so paging stopped. Check --endpoint.",
                    method=call.method,
                    path=call.path,
                    dataview=str(ref),
                )
            records.extend(fresh)
            seen.update(r.get("id") for r in fresh)
            if not _has_next_page(page, len(exports)):
                return records

    async def _list_page(self, call: _Call, *, offset: int) -> FrozenDict:
        params = {"limit": PAGE_SIZE, "offset": offset, "fields": LIST_FIELDS, "sort": "(id:asc)"}
        reply = await self._send(call, params=params)
        self._check(call, reply.response)
        page = _json(call, reply.response, loads_frozen)
        if not isinstance(page, FrozenDict) or not _is_records(page.get("exports")):
            raise _unexpected(call, reply.response, "no list of exports in the answer")
        return page

    async def add_export(
        self, ref: DataviewRef, body: Mapping[str, Any], *, key: str | None = None
    ) -> MutationResult:
        """POST a new export; ``DATAVIEW_ID`` comes from ``ref``, here and nowhere else."""
        payload = {**thaw(body), "DATAVIEW_ID": ref.dataview_id}
        call = _Call("POST", _exports_path(ref), f"add an export to dataview {ref}", ref, key)
        return await self._mutate(call, payload)

    async def edit_export(
        self, ref: DataviewRef, export_id: int, body: Mapping[str, Any], *, key: str | None = None
    ) -> MutationResult:
        """Replace an export's spec: Mammoth edits by POSTing it with ``TRIGGER_ID``."""
        payload = {"DATAVIEW_ID": ref.dataview_id, **thaw(body), "TRIGGER_ID": export_id}
        action = f"edit export {export_id} of dataview {ref}"
        call = _Call("POST", _exports_path(ref), action, ref, key, export_id)
        return await self._mutate(call, payload)

    async def delete_export(
        self, ref: DataviewRef, export_id: int, *, key: str | None = None
    ) -> MutationResult:
        """DELETE an export; a 404 on a retry comes back as ``already_gone``."""
        path = f"{_exports_path(ref)}/{export_id}"
        call = _Call(
            "DELETE", path, f"delete export {export_id} of dataview {ref}", ref, key, export_id
        )
        reply = await self._send(call)
        if reply.response.status_code == 404 and reply.attempts > 1:
            return MutationResult(404, export_id, None, "deleted", None, already_gone=True)
        return self._result(call, reply.response)

    async def patch_export(
        self,
        ref: DataviewRef,
        export_id: int,
        path: str,
        value: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
    ) -> MutationResult:
        """PATCH one of ``run``/``suspend``/``restore``/``discard`` or replace ``params``."""
        if path not in PATCH_PATHS:
            raise ValueError(f"unknown patch path {path!r}; expected one of {sorted(PATCH_PATHS)}")
        patch = {
            "op": PATCH_PATHS[path],
            "path": path,
            "value": None if value is None else thaw(value),
        }
        action = f"{path} export {export_id} of dataview {ref}"
        url = f"{_exports_path(ref)}/{export_id}"
        call = _Call("PATCH", url, action, ref, key, export_id)
        return await self._mutate(call, {"patches": [patch]})

    async def _mutate(self, call: _Call, payload: Mapping[str, Any]) -> MutationResult:
        reply = await self._send(call, body=payload)
        return self._result(call, reply.response)

    def _result(self, call: _Call, response: httpx.Response) -> MutationResult:
        self._check(call, response)
        body = _json(call, response) if response.content else None
        return MutationResult.from_response(response.status_code, body)

    # -- jobs ----------------------------------------------------------------

    async def get_jobs(self, job_ids: Iterable[int]) -> list[dict[str, Any]]:
        """The jobs with these ids, ``JOB_BATCH`` ids per request."""
        ids = list(dict.fromkeys(job_ids))
        jobs: list[dict[str, Any]] = []
        for start in range(0, len(ids), JOB_BATCH):
            jobs.extend(await self._jobs_batch(ids[start : start + JOB_BATCH]))
        return jobs

    async def _jobs_batch(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        call = _Call("GET", "jobs", "read jobs " + ", ".join(map(str, ids)))
        reply = await self._send(call, params={"job_ids": ",".join(map(str, ids))})
        self._check(call, reply.response)
        body = _json(call, reply.response)
        jobs = body.get("jobs") if isinstance(body, dict) else None
        if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
            raise _unexpected(call, reply.response, "no list of jobs in the answer")
        return jobs

    # -- the request core ----------------------------------------------------

    async def _send(
        self,
        call: _Call,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> _Reply:
        """One logical request: attempts, retries and the maybe-landed rule."""
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(call, params, body)
            if isinstance(outcome, _Failure):
                verdict = classify(call.method, error=outcome.kind)
            else:
                verdict = classify(call.method, status=outcome.status_code)
            if verdict is Verdict.ACCEPT and isinstance(outcome, httpx.Response):
                return _Reply(outcome, attempt)
            if verdict is Verdict.MAYBE_LANDED:
                raise _maybe_landed(call, outcome)
            if verdict is Verdict.FAIL or attempt >= self._retry.max_attempts:
                raise self._exhausted(call, outcome, attempt)
            hint = None if isinstance(outcome, _Failure) else _retry_after(outcome)
            await self._retry.sleep(self._retry.delay(attempt, hint))

    async def _attempt(
        self,
        call: _Call,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
    ) -> httpx.Response | _Failure:
        url = f"{self._base_url}/{call.path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        async with self._slots:
            outgoing = self._unsent.add()
            extensions = {"timeout": self._timeout, "trace": outgoing.trace}
            request = httpx.Request(
                call.method, url, headers=self._headers, json=body, extensions=extensions
            )
            try:
                response = await self._transport.handle_async_request(request)
                outgoing.answered()
                try:
                    await response.aread()
                finally:
                    await response.aclose()  # gives the connection back to the pool
            except httpx.TransportError as exc:
                # Keep only type and text: the exception's request holds the headers.
                return _Failure(type(exc), str(exc))
            finally:
                outgoing.done()
        await self._unsent.all_sent()
        return response

    def _exhausted(
        self, call: _Call, outcome: httpx.Response | _Failure, attempts: int
    ) -> Exception:
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        if isinstance(outcome, httpx.Response):
            return ApiError(
                f"Could not {call.subject}: the API answered {outcome.status_code} "
                f"({_detail(outcome)}) after {tries}. The API is busy or having "
                "trouble: try again later, or lower --parallelism.",
                status_code=outcome.status_code,
                detail=_detail(outcome),
                method=call.method,
                path=call.path,
                dataview=_dv(call),
                key=call.key,
            )
        return ApiUnreachableError(
            f"Cannot reach the Mammoth API at {self.endpoint} to {call.subject} "
            f"({outcome}; {tries}). Check --endpoint or MAMMOTH_BASE_URL, and the network "
            "(DNS, proxy, firewall)."
        )

    def _check(self, call: _Call, response: httpx.Response) -> None:
        """Raise the error a non-2xx answer means."""
        status = response.status_code
        if status < 400:
            return
        detail = _detail(response)
        context: dict[str, Any] = {
            "status_code": status,
            "detail": detail,
            "method": call.method,
            "path": call.path,
            "dataview": _dv(call),
            "key": call.key,
        }
        if status in (401, 403):
            raise AuthError(_auth_message(status, self.endpoint), **context)
        if status == 404:
            raise NotFoundError(_not_found_message(call, self.endpoint, response), **context)
        raise ApiError(f"Could not {call.subject}: the API answered {status}: {detail}", **context)


def _exports_path(ref: DataviewRef) -> str:
    return (
        f"workspaces/{ref.workspace_id}/projects/{ref.project_id}/datasets/{ref.dataset_id}"
        f"/dataviews/{ref.dataview_id}/pipeline/exports"
    )


def _is_records(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(r, FrozenDict) for r in value)


def _has_next_page(page: Mapping[str, Any], page_length: int) -> bool:
    """Whether another page follows: the ``next`` link says so; a full page hints so."""
    if page_length == 0:
        return False
    if "next" in page:
        return bool(page["next"])
    return page_length >= PAGE_SIZE


def _retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("Retry-After"))


def _dv(call: _Call) -> str | None:
    return str(call.dataview) if call.dataview is not None else None


def _json(call: _Call, response: httpx.Response, loads: Callable[[bytes], Any] = json.loads) -> Any:
    try:
        return loads(response.content)
    except ValueError:
        pass
    # Raised outside the except block, so no decode error is chained to it.
    raise _unexpected(call, response, "the answer is not JSON")


def _detail(response: httpx.Response) -> str:
    """The server's ``detail`` from an error body, else a short piece of the text."""
    # Limitation: the detail is the server's text, shown as is; a server that
    # echoes a submitted secret in an error would have it shown.
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    text = response.text.strip()
    return text[:DETAIL_LIMIT] if text else response.reason_phrase or "no detail"


def _unexpected(call: _Call, response: httpx.Response, what: str) -> ApiError:
    return ApiError(
        f"Could not {call.subject}: unexpected answer ({response.status_code}): {what}. "
        "Is --endpoint a Mammoth API?",
        status_code=response.status_code,
        method=call.method,
        path=call.path,
        dataview=_dv(call),
        key=call.key,
    )


def _auth_message(status: int, endpoint: str) -> str:
    if status == 401:
        return (
            f"The API rejected the credentials (401) at {endpoint}. Check MAMMOTH_API_KEY "
            "and MAMMOTH_API_SECRET, and that --endpoint / MAMMOTH_BASE_URL is the "
            "server they belong to."
        )
    return (
        f"The API refused access (403) at {endpoint}: the key in MAMMOTH_API_KEY is "
        "valid but lacks permission. Check its workspace and role."
    )


def _not_found_message(call: _Call, endpoint: str, response: httpx.Response) -> str:
    """What a 404 means: a wrong endpoint (said once for all), else a wrong id.

    With a wrong endpoint every dataview 404s; blaming each one's ids would
    send the user through correct ids, so that message names no dataview and
    ``fetch_live`` shows it once.
    """
    suspect = _endpoint_suspect(endpoint, response)
    if suspect is not None:
        return (
            f"Not found (404) at {endpoint}: {suspect}, so the endpoint is likely wrong, "
            "not the ids. Is --endpoint / MAMMOTH_BASE_URL the API root, like "
            f"https://app.mammoth.io{API_ROOT_SUFFIX}?"
        )
    key = f" (export key {call.key!r})" if call.key else ""
    if call.export_id is not None and call.dataview is not None:
        return (
            f"export {call.export_id}{key} of dataview {call.dataview} not found (404): "
            "it may have been deleted since it was listed. Run plan again."
        )
    if call.dataview is not None:
        return f"dataview {call.dataview} not found (404) at {endpoint}{key}: " + _ids_hint(call)
    return f"Could not {call.subject}: not found (404) at {endpoint}."


def _endpoint_suspect(endpoint: str, response: httpx.Response) -> str | None:
    """Why a 404 looks like the endpoint's fault rather than an id's, or None.

    Every path of the API starts with ``/api/v2``, and the API answers a 404
    with its error body (``status_code`` and ``detail``, as the spec says). A
    detail other than the bare "Not Found" of any web framework's unknown
    route means the API itself looked for the dataview or export.
    """
    # Limitation: a wrong path that still ends in /api/v2, on a server that
    # answers unknown routes with the API's error body (the sandbox does),
    # passes every check; the user is then told to check the ids.
    detail = _error_body_detail(response)
    if detail is not None and detail.strip().lower() != "not found":
        return None
    if not httpx.URL(endpoint).path.endswith(API_ROOT_SUFFIX):
        return f"its path does not end in {API_ROOT_SUFFIX}"
    if detail is None:
        return "the answer is not a Mammoth API error"
    return None


def _error_body_detail(response: httpx.Response) -> str | None:
    """The ``detail`` of an answer in the API's error body shape, else None."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("status_code"), int):
        return None
    detail = body.get("detail")
    return detail if isinstance(detail, str) else None


def _ids_hint(call: _Call) -> str:
    if call.ids_from == "command line":
        return (
            f"check the ids given as --dataview {call.dataview} "
            "(workspace/project/dataset/dataview)."
        )
    return "check its workspace_id, project_id, dataset_id and dataview_id in the manifest."


def _maybe_landed(call: _Call, outcome: httpx.Response | _Failure) -> MaybeLandedError:
    if isinstance(outcome, httpx.Response):
        reason = f"the API answered {outcome.status_code} ({_detail(outcome)})"
        status: int | None = outcome.status_code
    else:
        reason = f"the request was sent but no answer came back ({outcome})"
        status = None
    return MaybeLandedError(
        f"Not sure whether the request to {call.subject} took effect: {reason}. "
        "It may have landed; run plan to see the dataview as it is now before applying again.",
        status_code=status,
        method=call.method,
        path=call.path,
        dataview=_dv(call),
        key=call.key,
    )
