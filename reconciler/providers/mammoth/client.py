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

Idempotency keys: every write may carry an ``Idempotency-Key`` (the provider
derives it from the change, ``idempotency.change_key``). Once the server has
echoed one, it is known to run a keyed write once, so a write whose answer was
lost, or that is answered "first attempt still running" (409 ``4GENR038``),
is sent again with the same key instead of handing the core a
``MaybeLandedError``. A server that never echoes keeps today's path: the core
re-lists and looks for the marker (``reconciler.apply.landed``).

Secrets: the key and secret live only in the prepared request headers.
Errors are raised outside ``except`` blocks and carry only an exception's type
name and text, never the httpx exception (whose request holds the headers), so
no traceback, ``__cause__`` or ``__context__`` can leak them.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.errors import ApiError, MaybeLandedError
from reconciler.http.api import ApiClient, ApiSession, Call, Reply, StandardWording, body_detail
from reconciler.http.retry import RetryPolicy
from reconciler.http.transport import endpoint_label
from reconciler.model import FrozenDict, loads_frozen, thaw
from reconciler.providers.base import IdsFrom
from reconciler.providers.mammoth import idempotency
from reconciler.providers.mammoth.jobs import int_or_none, trigger_id_of
from reconciler.providers.mammoth.model import DataviewRef

__all__ = [
    "PAGE_SIZE",
    "PATCH_PATHS",
    "MammothClient",
    "MutationResult",
    "endpoint_label",
]

# No dataview holds near this many exports (100,000 at 100 a page): a server
# offering page after page is broken or hostile.
MAX_PAGES = 1_000
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
KEYED_ATTEMPTS = 4  # sends of one keyed write to a server known to honour keys
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
    once: bool = False  # the server echoed the idempotency key: it runs this write once

    @classmethod
    def from_response(cls, status_code: int, body: Any) -> MutationResult:
        if not isinstance(body, Mapping):
            return cls(status_code, None, None, None, body)
        job = body.get("job")
        if isinstance(job, Mapping):
            return cls(
                status_code,
                trigger_id_of(job),
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
class _About:
    """Mammoth's context of a ``Call``: which dataview and export, and where the ids came from."""

    dataview: DataviewRef | None = None
    export_id: int | None = None
    ids_from: IdsFrom = "manifest"


def _call(
    method: str,
    path: str,
    action: str,
    dataview: DataviewRef | None = None,
    key: str | None = None,
    export_id: int | None = None,
    ids_from: IdsFrom = "manifest",
) -> Call:
    scope = str(dataview) if dataview is not None else None
    return Call(method, path, action, scope, key, _About(dataview, export_id, ids_from))


class MammothClient(ApiClient):
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
        self._retry = retry or RetryPolicy()
        self.keys_honoured = False  # learned from the first echoed Idempotency-Key
        super().__init__(
            ApiSession(
                base_url,
                {"X-API-KEY": api_key, "X-API-SECRET": api_secret, "Accept": "application/json"},
                _MammothWording(),
                transport=transport,
                parallelism=parallelism,
                timeout=timeout,
                retry=retry,
            )
        )

    # -- exports -------------------------------------------------------------

    async def list_exports(
        self, ref: DataviewRef, *, ids_from: IdsFrom = "manifest"
    ) -> list[FrozenDict]:
        """Every export of the dataview (``LIST_FIELDS``), across all pages, by id.

        The records come frozen (``loads_frozen``), ready for ``LiveExport``.
        ``ids_from`` says where ``ref`` was written, for the hint of a 404.
        """
        action = f"list the exports of dataview {ref}"
        call = _call("GET", _exports_path(ref), action, ref, ids_from=ids_from)
        records: list[FrozenDict] = []
        seen: set[Any] = set()
        for pages in itertools.count(1):
            if pages > MAX_PAGES:
                raise ApiError(
                    f"Could not {call.action}: {self.endpoint} still offered another page "
                    f"after {MAX_PAGES} pages ({len(records)} exports), more than any "
                    "dataview holds, so paging stopped. Check --endpoint.",
                    method=call.method,
                    path=call.path,
                    scope=str(ref),
                )
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
                    scope=str(ref),
                )
            records.extend(fresh)
            seen.update(r.get("id") for r in fresh)
            if not _has_next_page(page, len(exports)):
                break
        return records

    async def _list_page(self, call: Call, *, offset: int) -> FrozenDict:
        params = {"limit": PAGE_SIZE, "offset": offset, "fields": LIST_FIELDS, "sort": "(id:asc)"}
        reply = await self._api.send(call, params=params)
        self._api.check(call, reply.response)
        page = self._api.json(call, reply.response, loads_frozen)
        if not isinstance(page, FrozenDict) or not _is_records(page.get("exports")):
            raise self._api.unexpected(call, reply.response, "no list of exports in the answer")
        for position, record in enumerate(page["exports"]):
            problem = _record_problem(record)
            if problem is not None:
                what = f"export {position + 1} of the page at offset {offset}: {problem}"
                raise self._api.unexpected(call, reply.response, what)
        return page

    async def add_export(
        self,
        ref: DataviewRef,
        body: Mapping[str, Any],
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
    ) -> MutationResult:
        """POST a new export; ``DATAVIEW_ID`` comes from ``ref``, here and nowhere else."""
        payload = {**thaw(body), "DATAVIEW_ID": ref.dataview_id}
        call = _call("POST", _exports_path(ref), f"add an export to dataview {ref}", ref, key)
        return await self._mutate(call, payload, idempotency_key)

    async def edit_export(
        self,
        ref: DataviewRef,
        export_id: int,
        body: Mapping[str, Any],
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
    ) -> MutationResult:
        """Replace an export's spec: Mammoth edits by POSTing it with ``TRIGGER_ID``."""
        payload = {"DATAVIEW_ID": ref.dataview_id, **thaw(body), "TRIGGER_ID": export_id}
        action = f"edit export {export_id} of dataview {ref}"
        call = _call("POST", _exports_path(ref), action, ref, key, export_id)
        return await self._mutate(call, payload, idempotency_key)

    async def delete_export(
        self,
        ref: DataviewRef,
        export_id: int,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
    ) -> MutationResult:
        """DELETE an export; a 404 on a retry comes back as ``already_gone``."""
        path = f"{_exports_path(ref)}/{export_id}"
        call = _call(
            "DELETE", path, f"delete export {export_id} of dataview {ref}", ref, key, export_id
        )
        reply = await self._write(call, None, idempotency_key)
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
        idempotency_key: str | None = None,
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
        call = _call("PATCH", url, action, ref, key, export_id)
        return await self._mutate(call, {"patches": [patch]}, idempotency_key)

    async def _mutate(
        self, call: Call, payload: Mapping[str, Any], idempotency_key: str | None
    ) -> MutationResult:
        reply = await self._write(call, payload, idempotency_key)
        result = self._result(call, reply.response)
        echoed = reply.response.headers.get(idempotency.HEADER)
        if idempotency_key is None or echoed != idempotency_key:
            return result
        return dataclasses.replace(result, once=True)

    async def _write(
        self, call: Call, payload: Mapping[str, Any] | None, idempotency_key: str | None
    ) -> Reply:
        """Send a write, with its key; resend it with that key where the server honours keys."""
        headers = None if idempotency_key is None else {idempotency.HEADER: idempotency_key}
        attempt = 0
        while True:
            attempt += 1
            replayable = idempotency_key is not None and self.keys_honoured
            lost: MaybeLandedError | None = None
            try:
                reply = await self._api.send(call, body=payload, headers=headers)
            except MaybeLandedError as error:
                lost = error
            if lost is not None:
                if not replayable or attempt >= KEYED_ATTEMPTS:
                    raise lost
            else:
                echoed = reply.response.headers.get(idempotency.HEADER)
                if idempotency_key is not None and echoed == idempotency_key:
                    self.keys_honoured = True
                if not (replayable and _first_attempt_running(reply.response)):
                    return reply
                if attempt >= KEYED_ATTEMPTS:
                    return reply
            await self._retry.sleep(self._retry.delay(attempt))

    def _result(self, call: Call, response: httpx.Response) -> MutationResult:
        self._api.check(call, response)
        body = self._api.json(call, response) if response.content else None
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
        call = _call("GET", "jobs", "read jobs " + ", ".join(map(str, ids)))
        reply = await self._api.send(call, params={"job_ids": ",".join(map(str, ids))})
        self._api.check(call, reply.response)
        body = self._api.json(call, reply.response)
        jobs = body.get("jobs") if isinstance(body, dict) else None
        if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
            raise self._api.unexpected(call, reply.response, "no list of jobs in the answer")
        return jobs


def _first_attempt_running(response: httpx.Response) -> bool:
    """Whether a keyed write was refused because its first attempt still runs (409 4GENR038)."""
    if response.status_code != 409:
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error_code") == idempotency.IN_PROGRESS_CODE


def _exports_path(ref: DataviewRef) -> str:
    return (
        f"workspaces/{ref.workspace_id}/projects/{ref.project_id}/datasets/{ref.dataset_id}"
        f"/dataviews/{ref.dataview_id}/pipeline/exports"
    )


# Checked in every listed export before use: the fields the planner reads, as
# the published ItemExportInfo schema types them (id required, as every answer
# carries it). Hand-written rather than a schema validator: it runs 10,000
# times a plan.
_OPTIONAL_TYPES: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("handler_type", str),
    ("trigger_type", str),
    ("status", str),
    ("end_of_pipeline", bool),
    ("target_properties", FrozenDict),
    ("condition", FrozenDict),
    ("additional_properties", FrozenDict),
)
_LARGEST_ID = 2**63 - 1


def _record_problem(record: FrozenDict) -> str | None:
    """What makes a listed export unusable, or ``None`` when its fields are as documented."""
    export_id = record.get("id")
    if type(export_id) is not int or not 0 <= export_id <= _LARGEST_ID:
        return f"its id is {_shown(export_id)}, not a whole number"
    sequence = record.get("sequence")
    if sequence is not None and type(sequence) is not int:
        return f"its sequence is {_shown(sequence)}, not a whole number"
    for name, kind in _OPTIONAL_TYPES:
        value = record.get(name)
        if value is not None and not isinstance(value, kind):
            return f"its {name} is {_shown(value)}, of the wrong type"
    return None


def _shown(value: Any) -> str:
    text = "missing" if value is None else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_records(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(r, FrozenDict) for r in value)


def _has_next_page(page: Mapping[str, Any], page_length: int) -> bool:
    """Whether another page follows: the ``next`` link says so; a full page hints so."""
    if page_length == 0:
        return False
    if "next" in page:
        return bool(page["next"])
    return page_length >= PAGE_SIZE


class _MammothWording(StandardWording):
    """How Mammoth's errors read: its settings, its error body, its 404s."""

    service = "the Mammoth API"
    endpoint_setting = "--endpoint or MAMMOTH_BASE_URL"
    scope_noun = "dataview"
    key_noun = "export key"

    def detail(self, response: httpx.Response) -> str:
        """The server's sentence, its error code and its hint, as Mammoth sends them.

        The sentence is in ``message``, or in ``detail`` (null on a 404, so
        reading ``detail`` alone loses it); ``error_code`` (e.g. ``4GENR007``)
        and ``hint`` follow when the server sent them.
        """
        body = _error_body(response)
        if body is None:
            return body_detail(response, ("message", "detail"))
        text = _error_sentence(body) or body_detail(response, ())
        if response.status_code >= 500 or response.status_code == 429:
            return text  # retried, or "try later": a code and hint would only add noise
        code, hint = body.get("error_code"), body.get("hint")
        if isinstance(code, str) and code:
            text += f" [{code}]"
        if isinstance(hint, str) and hint.strip():
            text += f". Hint: {hint.strip()}"
        return text

    def auth_failure(self, status: int, endpoint: str) -> str:
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

    def not_found(self, call: Call, endpoint: str, response: httpx.Response) -> str:
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
                f"https://app.mammoth.io{API_ROOT_SUFFIX}?" + _server_said(response)
            )
        about = call.about if isinstance(call.about, _About) else _About()
        key = f" (export key {call.key!r})" if call.key else ""
        if about.export_id is not None and about.dataview is not None:
            return (
                f"export {about.export_id}{key} of dataview {about.dataview} not found (404): "
                "it may have been deleted since it was listed. Run plan again."
            )
        if about.dataview is not None:
            return f"dataview {about.dataview} not found (404) at {endpoint}{key}: " + _ids_hint(
                about
            )
        return super().not_found(call, endpoint, response)


def _endpoint_suspect(endpoint: str, response: httpx.Response) -> str | None:
    """Why a 404 looks like the endpoint's fault rather than an id's, or None.

    Every path of the API starts with ``/api/v2``: a base URL whose path does
    not end in it is blamed whatever the answer says, because what answers
    there is not the API, though it may answer in the API's error shape
    (``exportctl sandbox serve`` names where its APIs are that way, a gateway
    may too). With the right path, the API answers a 404 with its error body
    (``status_code`` and ``detail``, as the spec says); an answer without one
    came from some other server.
    """
    # Limitation: a wrong path that still ends in /api/v2, on a server that
    # answers unknown routes with the API's error body (the sandbox does),
    # passes every check; the user is then told to check the ids.
    if not httpx.URL(endpoint).path.endswith(API_ROOT_SUFFIX):
        return f"its path does not end in {API_ROOT_SUFFIX}"
    if _error_body_detail(response) is None:
        return "the answer is not a Mammoth API error"
    return None


def _server_said(response: httpx.Response) -> str:
    """The server's own sentence, to follow a blamed endpoint, when it says more than the
    bare "Not Found" of any web framework's unknown route: it may say where the API is
    (the sandbox's does), or, behind a gateway, that the ids are wrong after all."""
    detail = _error_body_detail(response)
    if detail is None or detail.lower() == "not found":
        return ""
    return f" The server said: {detail}"


def _error_body(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's body when it has the API's error shape (a ``status_code``), else None."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("status_code"), int):
        return None
    return body


def _error_sentence(body: Mapping[str, Any]) -> str | None:
    """The error's sentence: ``message``, else ``detail`` (a text, or an object holding one)."""
    for value in (body.get("message"), body.get("detail")):
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, Mapping):
            inner = value.get("message") or value.get("detail")
            if isinstance(inner, str) and inner.strip():
                return inner.strip()
    return None


def _error_body_detail(response: httpx.Response) -> str | None:
    """The sentence of an answer in the API's error body shape, else None."""
    body = _error_body(response)
    return None if body is None else _error_sentence(body)


def _ids_hint(about: _About) -> str:
    if about.ids_from == "command line":
        return (
            f"check the ids given as --dataview {about.dataview} "
            "(workspace/project/dataset/dataview)."
        )
    return "check its workspace_id, project_id, dataset_id and dataview_id in the manifest."
