"""The request core every provider's client sends through: one rule for all APIs.

A provider's client describes each request as a ``Call`` (method, path, what
it is about) and its API's wording as ``ApiWording``; ``ApiSession`` does the
rest the same way for every platform:

- a bound on requests in flight (``--parallelism``), shared by all callers;
- attempts, back-off and ``Retry-After`` under ``reconciler.http.retry``'s
  rules, so a write whose answer was lost is never resent blindly
  (``MaybeLandedError``) and a read is retried on transient failures;
- failures turned into the error tree of ``reconciler.errors`` with messages
  that say what could not be done, what the server said and what to check.

Secrets: credentials live only in the prepared request headers. Errors are
raised outside ``except`` blocks and carry only an exception's type name and
text, never the httpx exception (whose request holds the headers), so no
traceback, ``__cause__`` or ``__context__`` can leak them.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

import httpx

from reconciler import redaction
from reconciler.errors import (
    ApiError,
    ApiUnreachableError,
    AuthError,
    MaybeLandedError,
    NotFoundError,
)
from reconciler.http.retry import RetryPolicy, Verdict, classify, parse_retry_after
from reconciler.http.transport import (
    AnswerTooSlowError,
    endpoint_label,
    network_transport,
    read_capped,
)

__all__ = ["DETAIL_LIMIT", "ApiClient", "ApiSession", "ApiWording", "Call", "Reply"]

DETAIL_LIMIT = 500  # characters of a non-JSON error body worth showing


@dataclass(frozen=True)
class Call:
    """What one request is about, for retry decisions and error messages.

    ``action`` completes "Could not ...", e.g. "list the exports of dataview
    1/1/2/3"; ``scope`` and ``key`` name the manifest entry it serves, and
    ``about`` is the provider's own context for its messages (which ids, and
    where they were written).
    """

    method: str
    path: str  # relative to the base URL; never a query string
    action: str
    scope: str | None = None
    key: str | None = None
    about: Any = None


@dataclass(frozen=True)
class Reply:
    response: httpx.Response
    attempts: int


class ApiWording(Protocol):
    """How one API's errors are worded: its name, its settings, its error bodies."""

    service: str  # "the Mammoth API"
    endpoint_setting: str  # where the user sets the URL: "--endpoint or MAMMOTH_BASE_URL"
    scope_noun: str  # what a plan lists: "dataview"
    key_noun: str  # what a manifest key names: "export key"

    def subject(self, call: Call) -> str:
        """The call's action with the manifest key it serves, for "Could not ..." messages."""
        ...

    def detail(self, response: httpx.Response) -> str:
        """The server's own explanation from an error answer, short."""
        ...

    def auth_failure(self, status: int, endpoint: str) -> str:
        """What a 401 or 403 means and which credentials to check."""
        ...

    def not_found(self, call: Call, endpoint: str, response: httpx.Response) -> str:
        """What a 404 means for this call (a wrong id, or a wrong endpoint)."""
        ...

    def retry_after(self, response: httpx.Response) -> float | None:
        """Seconds the server asked to wait before the next attempt, if it said."""
        ...


class StandardWording:
    """Defaults for ``ApiWording`` that most APIs share; subclass and override."""

    service = "the API"
    endpoint_setting = "--endpoint"
    scope_noun = "scope"
    key_noun = "key"

    def subject(self, call: Call) -> str:
        return call.action + (f" ({self.key_noun} {call.key!r})" if call.key else "")

    def detail(self, response: httpx.Response) -> str:
        return body_detail(response, ("detail", "message", "error"))

    def auth_failure(self, status: int, endpoint: str) -> str:
        return f"{self.service} refused the credentials ({status}) at {endpoint}."

    def not_found(self, call: Call, endpoint: str, response: httpx.Response) -> str:
        return f"Could not {self.subject(call)}: not found (404) at {endpoint}."

    def retry_after(self, response: httpx.Response) -> float | None:
        return parse_retry_after(response.headers.get("Retry-After"))


def body_detail(response: httpx.Response, fields: tuple[str, ...]) -> str:
    """The first of ``fields`` that an error body holds as text, else a short piece of it.

    The piece is cut after the secrets are scrubbed (``redaction``): cut first,
    a secret straddling the cut would no longer match, and its start would show.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for name in fields:
            if isinstance(body.get(name), str) and body[name]:
                return str(body[name])
    text = redaction.scrub(response.text.strip())
    return text[:DETAIL_LIMIT] if text else response.reason_phrase or "no detail"


class _Unsent:
    """The requests that hold a slot but are not on the wire yet.

    Working on an answer (parsing a listing, planning its scope) takes a
    millisecond or more of CPU on the event loop's one thread. Done before the
    next request goes out, it delays that request by as much, every time: a
    plan of 500 dataviews at 20 ms latency took about 10% longer
    (bench/bench_plan.py). So a task that frees its slot first waits until
    the request that took the slot is sent, as the transport's ``trace``
    events tell (httpcore's extension, which ``http.transport`` speaks too).
    A transport without them (the in-process sandbox) shows itself by
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
        """The ``trace`` extension (httpcore's, kept by ``http.transport``): each step."""
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
class _Failure:
    """A transport failure, reduced to what is safe to show (no request, no headers)."""

    kind: type[httpx.TransportError]
    text: str

    def __str__(self) -> str:
        return f"{self.kind.__name__}: {self.text}" if self.text else self.kind.__name__


class ApiSession:
    """Requests to one API endpoint under the shared rules; use it with ``async with``.

    ``headers`` carry the credentials; they are sent with every request and
    shown nowhere.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        wording: ApiWording,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = 8,
        timeout: float = 30.0,
        deadline: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """``timeout`` bounds each connect, read and write; ``deadline`` (twice that
        by default) a whole request, from sending to the last byte of its answer."""
        if parallelism < 1:
            raise ValueError("parallelism must be at least 1")
        self.endpoint = endpoint_label(base_url)
        self.parallelism = parallelism
        self.wording = wording
        self._retry = retry or RetryPolicy()
        self._slots = asyncio.Semaphore(parallelism)
        self._unsent = _Unsent()
        self._base_url = base_url.rstrip("/")
        self._headers = httpx.Headers({"User-Agent": "exportctl", **headers})
        redaction.hide_headers(headers)  # a server or proxy may echo them in an error
        self._timeout = httpx.Timeout(timeout).as_dict()
        # The whole exchange, not only each read: a server that drips a byte
        # at a time never trips a read timeout.
        self._deadline = deadline if deadline is not None else 2 * timeout
        self._transport = transport or network_transport(base_url, parallelism)

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

    async def send(
        self,
        call: Call,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """One logical request: attempts, retries and the maybe-landed rule.

        ``body`` is sent as JSON, ``form`` as an urlencoded form; ``headers``
        are added to this request only. Any answer that the retry rules
        accept comes back, error statuses included: ``check`` raises for them.
        """
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(call, params, body, form, headers)
            if isinstance(outcome, _Failure):
                verdict = classify(call.method, error=outcome.kind)
            else:
                verdict = classify(call.method, status=outcome.status_code)
            if verdict is Verdict.ACCEPT and isinstance(outcome, httpx.Response):
                return Reply(outcome, attempt)
            if verdict is Verdict.MAYBE_LANDED:
                raise self._maybe_landed(call, outcome)
            if verdict is Verdict.FAIL or attempt >= self._retry.max_attempts:
                raise self._exhausted(call, outcome, attempt)
            hint = None if isinstance(outcome, _Failure) else self.wording.retry_after(outcome)
            await self._retry.sleep(self._retry.delay(attempt, hint))

    async def _attempt(
        self,
        call: Call,
        params: Mapping[str, Any] | None,
        body: Any,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response | _Failure:
        url = f"{self._base_url}/{call.path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        async with self._slots:
            outgoing = self._unsent.add()
            extensions = {"timeout": self._timeout, "trace": outgoing.trace}
            request = httpx.Request(
                call.method,
                url,
                headers=self._headers if headers is None else {**self._headers, **headers},
                json=body,
                data=form,
                extensions=extensions,
            )
            try:
                async with asyncio.timeout(self._deadline):
                    response = await self._exchange(request, outgoing)
            except httpx.TransportError as exc:
                # Keep only type and text: the exception's request holds the headers.
                return _Failure(type(exc), str(exc))
            except TimeoutError:
                text = f"no whole answer within {self._deadline:g} s"
                return _Failure(AnswerTooSlowError, text)
            finally:
                outgoing.done()
        await self._unsent.all_sent()
        return response

    async def _exchange(self, request: httpx.Request, outgoing: _Outgoing) -> httpx.Response:
        """Send ``request`` and read its whole answer, no larger than the cap."""
        response = await self._transport.handle_async_request(request)
        outgoing.answered()
        try:
            if response.is_stream_consumed:  # ``PooledTransport`` reads (capped) itself
                return response
            headers = httpx.Headers(response.headers)
            body = await read_capped(response.aiter_raw(), headers, request)
        finally:
            await response.aclose()  # gives the connection back to the pool
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )

    def check(self, call: Call, response: httpx.Response) -> None:
        """Raise the error a 4xx or 5xx answer means."""
        status = response.status_code
        if status < 400:
            return
        detail = self.wording.detail(response)
        context = self._context(call, status, detail)
        if status in (401, 403):
            raise AuthError(self.wording.auth_failure(status, self.endpoint), **context)
        if status == 404:
            raise NotFoundError(self.wording.not_found(call, self.endpoint, response), **context)
        raise ApiError(
            f"Could not {self.wording.subject(call)}: the API answered {status}: {detail}",
            **context,
        )

    def json(
        self, call: Call, response: httpx.Response, loads: Callable[[bytes], Any] = json.loads
    ) -> Any:
        """The answer's JSON body; an ``ApiError`` saying so when it is not JSON."""
        what = "the answer is not JSON"
        try:
            return loads(response.content)
        except ValueError:
            pass
        except RecursionError:  # a hostile server's [[[[...]]]]
            what = "the answer is nested too deeply"
        # Raised outside the except block, so no decode error is chained to it.
        raise self.unexpected(call, response, what)

    def unexpected(self, call: Call, response: httpx.Response, what: str) -> ApiError:
        """The error for an answer of the wrong shape: likely not the API at all."""
        return ApiError(
            f"Could not {self.wording.subject(call)}: unexpected answer "
            f"({response.status_code}): {what}. "
            f"Is {self.wording.endpoint_setting} {self.wording.service}?",
            **self._context(call, response.status_code, None),
        )

    def _exhausted(
        self, call: Call, outcome: httpx.Response | _Failure, attempts: int
    ) -> Exception:
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        if isinstance(outcome, httpx.Response):
            detail = self.wording.detail(outcome)
            return ApiError(
                f"Could not {self.wording.subject(call)}: the API answered {outcome.status_code} "
                f"({detail}) after {tries}. The API is busy or having "
                "trouble: try again later, or lower --parallelism.",
                **self._context(call, outcome.status_code, detail),
            )
        return ApiUnreachableError(
            f"Cannot reach {self.wording.service} at {self.endpoint} to "
            f"{self.wording.subject(call)} ({outcome}; {tries}). "
            f"Check {self.wording.endpoint_setting}, and the network (DNS, proxy, firewall)."
        )

    def _maybe_landed(self, call: Call, outcome: httpx.Response | _Failure) -> MaybeLandedError:
        if isinstance(outcome, httpx.Response):
            reason = f"the API answered {outcome.status_code} ({self.wording.detail(outcome)})"
            status: int | None = outcome.status_code
        else:
            reason = f"the request was sent but no answer came back ({outcome})"
            status = None
        return MaybeLandedError(
            f"Not sure whether the request to {self.wording.subject(call)} took effect: {reason}. "
            f"It may have landed; run plan to see the {self.wording.scope_noun} as it is now "
            "before applying again.",
            **self._context(call, status, None),
        )

    @staticmethod
    def _context(call: Call, status: int | None, detail: str | None) -> dict[str, Any]:
        return {
            "status_code": status,
            "detail": detail,
            "method": call.method,
            "path": call.path,
            "scope": call.scope,
            "key": call.key,
        }


class ApiClient:
    """The base of a provider's client: one ``ApiSession``, opened and closed with it.

    A client adds its API's calls; ``endpoint`` and ``parallelism`` are what
    its ``repr`` and messages show (never a credential).
    """

    def __init__(self, api: ApiSession) -> None:
        self._api = api

    @property
    def endpoint(self) -> str:
        return self._api.endpoint

    @property
    def parallelism(self) -> int:
        return self._api.parallelism

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.endpoint!r}, parallelism={self.parallelism})"

    async def __aenter__(self) -> Self:
        await self._api.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._api.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        await self._api.aclose()
