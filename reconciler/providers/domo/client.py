"""The async client for Domo's "Export DataSet to S3" API.

Two calls exist, both addressed by the DataSet: ``POST
/api/query/v1/export/{datasetId}`` starts an export, ``GET`` the same path
answers the status of all its exports. There is no per-export read, no
cancel and no listing across DataSets. Requests go through the shared
request core (``reconciler.http.api``): bounded parallelism, retries of
reads on 429/5xx, and a POST whose answer was lost raised as
``MaybeLandedError`` rather than sent again.

Two answers of the POST are not "a new export started", and the client says
which one it got (``StartedExport.outcome``):

- ``previous``: the DataSet's data did not change since its last export, so
  Domo answered with that export (old ``exportId``, already ``success``) and
  wrote nothing new. Nothing is wrong: the data in S3 is current.
- ``busy``: Domo runs one export per DataSet at a time and refused this one;
  what it answers then is undocumented, so any 400 or 409 is checked by
  reading the status list, and a running export there is the answer.

Secrets: the developer token sits in the session's headers, and the AWS
credentials in the body of one POST. Any of them that a server echoes in an
error body is replaced by ``***`` before the text reaches a message
(``_Redactor``), and the client's ``repr`` shows only the endpoint.
"""

from __future__ import annotations

import urllib.parse
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx

from reconciler.http.api import ApiClient, ApiSession, Call, StandardWording, body_detail
from reconciler.http.retry import RetryPolicy
from reconciler.http.server_clock import date_header_time
from reconciler.providers.domo.entries import ExportRequest
from reconciler.providers.domo.kinds import phase_of
from reconciler.providers.domo.wire import (
    DatasetExports,
    ExportRecord,
    parse_record,
    parse_records,
    request_body,
)
from reconciler.redaction import REDACTED, echoed_forms

__all__ = ["EXPORT_PATH", "TOKEN_HEADER", "DomoClient", "StartedExport"]

EXPORT_PATH = "api/query/v1/export"  # under the instance root, for POST and GET alike
TOKEN_HEADER = "X-DOMO-Developer-Token"
# What Domo may answer a POST while another export of the DataSet runs.
_MAYBE_BUSY = frozenset({400, 409})

Outcome = Literal["started", "previous", "busy"]


@dataclass(frozen=True)
class StartedExport:
    """What a POST achieved: the export it is about, and whether it is a new one.

    ``outcome`` is ``started`` (a new export; poll it), ``previous`` (data
    unchanged: Domo returned its last successful export, which is done) or
    ``busy`` (another export of the DataSet is running; ``record`` is that one).
    """

    record: ExportRecord
    outcome: Outcome
    server_time: datetime

    @property
    def done(self) -> bool:
        """Whether nothing is left to wait for: the data in S3 is already current."""
        return self.outcome == "previous"


class _Redactor:
    """The secrets in use right now, to strip from any text shown to a user.

    The token stays for the client's life; a POST's AWS credentials only
    while it is under way. Counted, since two exports may share a key.
    """

    def __init__(self, *permanent: str) -> None:
        self._secrets: Counter[str] = Counter(s for s in permanent if s)

    @contextmanager
    def hiding(self, secrets: Collection[str]) -> Iterator[None]:
        added = Counter(s for s in secrets if s)
        self._secrets.update(added)
        try:
            yield
        finally:
            self._secrets.subtract(added)
            self._secrets = +self._secrets  # drop the zero counts

    def scrub(self, text: str) -> str:
        # Longest first, so a secret containing another is replaced whole; each
        # also in the forms a server may echo it in (JSON- or URL-escaped).
        for secret in sorted(self._secrets, key=len, reverse=True):
            for form in echoed_forms(secret):
                text = text.replace(form, REDACTED)
        return text


class _DomoWording(StandardWording):
    """How Domo's errors read: its settings, its error body, secrets scrubbed."""

    service = "the Domo API"
    endpoint_setting = "DOMO_BASE_URL or DOMO_INSTANCE"
    scope_noun = "DataSet"
    key_noun = "export key"

    def __init__(self, redactor: _Redactor) -> None:
        self._redactor = redactor

    def detail(self, response: httpx.Response) -> str:
        """Domo's ``message`` (with its ``toe`` trace id for support), secrets scrubbed.

        The whole body is scrubbed before anything is cut from it, so a secret
        cannot survive in part at the cut.
        """
        # Only the text is carried over: the original's Content-Encoding would
        # make httpx decode the scrubbed text a second time.
        scrubbed = httpx.Response(
            response.status_code, content=self._redactor.scrub(response.text).encode()
        )
        text = body_detail(scrubbed, ("message", "statusReason", "error"))
        toe = _toe(scrubbed)
        return f"{text} (toe {toe})" if toe else text

    def auth_failure(self, status: int, endpoint: str) -> str:
        if status == 401:
            return (
                f"The Domo API rejected the developer token (401) at {endpoint}: it is "
                "invalid or expired. Check DOMO_DEVELOPER_TOKEN, and that DOMO_BASE_URL / "
                "DOMO_INSTANCE is the instance the token was made in."
            )
        return (
            f"The Domo API refused access (403) at {endpoint}: the token's user needs READ "
            "access to the DataSet (or the dataset.admin authority). Share the DataSet "
            "with that user, or use another user's token in DOMO_DEVELOPER_TOKEN."
        )

    def not_found(self, call: Call, endpoint: str, response: httpx.Response) -> str:
        """A DataSet Domo does not know, or, when the answer is not Domo's, a wrong URL.

        Domo answers its own 404s with its error body; a bare 404 of some
        other server means every DataSet would be "not found", so that
        message blames the endpoint, not the manifest.
        """
        if not _is_domo_error(response):
            return (
                f"Not found (404) at {endpoint}, and the answer is not a Domo API error: "
                f"is {self.endpoint_setting} the instance root, like https://acme.domo.com?"
            )
        key = f" (export key {call.key!r})" if call.key else ""
        return (
            f"DataSet {call.scope} not found (404) at {endpoint}{key}: check its dataset_id "
            "in the manifest, and that DOMO_BASE_URL / DOMO_INSTANCE names the instance "
            "that holds it."
        )


def _is_domo_error(response: httpx.Response) -> bool:
    """Whether an error answer has Domo's error body (``status`` and ``message``)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("status"), int) and "message" in body


def _toe(response: httpx.Response) -> str | None:
    """Domo's trace id of an error (``toe``), which its support asks for."""
    try:
        body = response.json()
    except ValueError:
        return None
    toe = body.get("toe") if isinstance(body, dict) else None
    return toe if isinstance(toe, str) and toe else None


def _server_time(response: httpx.Response) -> datetime:
    """The server's clock from the ``Date`` header; this machine's when it says nothing usable."""
    when = date_header_time(response)
    return when.astimezone(UTC) if when is not None else datetime.now(UTC)


class DomoClient(ApiClient):
    """Async access to one Domo instance's export API; use it with ``async with``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = 8,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._redactor = _Redactor(token)
        headers = {TOKEN_HEADER: token, "Accept": "application/json"}
        super().__init__(
            ApiSession(
                base_url,
                headers,
                _DomoWording(self._redactor),
                transport=transport,
                parallelism=parallelism,
                timeout=timeout,
                retry=retry,
            )
        )

    async def list_exports(self, dataset_id: str, *, key: str | None = None) -> DatasetExports:
        """Every export Domo reports for the DataSet (history included), oldest first."""
        call = Call(
            "GET", _path(dataset_id), f"read the exports of DataSet {dataset_id}", dataset_id, key
        )
        reply = await self._api.send(call)
        self._api.check(call, reply.response)
        body = self._api.json(call, reply.response)
        if not isinstance(body, list):
            raise self._api.unexpected(call, reply.response, "no list of exports in the answer")
        return DatasetExports(dataset_id, parse_records(body), _server_time(reply.response))

    async def export_status(
        self, dataset_id: str, export_id: str, *, key: str | None = None
    ) -> ExportRecord | None:
        """One export by id, read from the DataSet's list (Domo has no per-export read)."""
        return (await self.list_exports(dataset_id, key=key)).by_id(export_id)

    async def start_export(
        self, request: ExportRequest, *, key: str | None = None
    ) -> StartedExport:
        """Ask Domo to export the DataSet to S3; see the module docstring for the outcomes.

        Domo answers a new export with ``exportStatus: none``; an answer that
        is already ``success`` is a previous export, since a new one cannot be
        done by the time the POST answers.
        """
        dataset_id = request.dataset_id
        action = f"start an export of DataSet {dataset_id} to {request.destination}"
        call = Call("POST", _path(dataset_id), action, dataset_id, key)
        with self._redactor.hiding(request.credentials.values()):
            reply = await self._api.send(call, body=request_body(request))
            response = reply.response
            if response.status_code in _MAYBE_BUSY:
                running = await self._running_export(dataset_id, key)
                if running is not None:
                    return StartedExport(running[0], "busy", running[1])
            self._api.check(call, response)
            body = self._api.json(call, response)
        record = parse_record(body)
        if record is None:
            raise self._api.unexpected(call, response, "no exportId in the answer")
        previous = phase_of(record.status) == "succeeded"
        return StartedExport(record, "previous" if previous else "started", _server_time(response))

    async def _running_export(
        self, dataset_id: str, key: str | None
    ) -> tuple[ExportRecord, datetime] | None:
        exports = await self.list_exports(dataset_id, key=key)
        running = [r for r in exports.records if phase_of(r.status) == "running"]
        return (running[-1], exports.server_time) if running else None


def _path(dataset_id: str) -> str:
    return f"{EXPORT_PATH}/{urllib.parse.quote(dataset_id, safe='')}"
