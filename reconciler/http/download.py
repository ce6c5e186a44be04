"""Fetch an export's file to a local path: streamed, atomic, redirect-safe.

Export files (Mailgun's CSVs, data-tools' results) can be large and usually
sit behind a redirect to object storage with a signed, short-lived URL. So,
unlike the API's small JSON answers (``reconciler.http.api``), a download:

- streams the body to a temporary file beside ``path``, then
  flushes, fsyncs and renames it over ``path``: a reader sees the old file or
  the whole new one, never a part, and a failure leaves no trace;
- follows redirects itself, across hosts, and sends the caller's headers
  (its credentials) only to the origin it was given: object storage must not
  receive an API key, and rejects requests that carry two kinds of auth;
- retries what ``reconciler.http.retry`` calls transient (a GET may always
  be repeated), starting the file over each time;
- reports failures as ``ApiError`` / ``ApiUnreachableError`` whose messages
  show URLs without their query strings (the signatures) and never a
  server's raw error body, which for a signed URL can echo the signing input.

It talks to the transport directly, not through ``httpx.AsyncClient``: that
client logs every request URL, signature included, at INFO level.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from reconciler.errors import ApiError, ApiUnreachableError, ConfigError, ExportctlError
from reconciler.http.retry import RetryPolicy, Verdict, classify, parse_retry_after
from reconciler.http.transport import endpoint_label, proxy_for

__all__ = ["MAX_REDIRECTS", "download"]

MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_XML_FIELD = re.compile(r"<(Code|Message)>([^<]{1,300})</\1>")
_SHOWN_DETAIL = 300  # characters of a server's explanation worth showing


@dataclass(frozen=True)
class _Retryable:
    """An attempt that failed in a way another attempt may cure."""

    error: ExportctlError  # raised when no attempt is left
    retry_after: float | None = None


async def download(
    url: str,
    path: str | os.PathLike[str],
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 60.0,
    max_redirects: int = MAX_REDIRECTS,
) -> int:
    """Stream ``url`` to ``path`` atomically and return the number of bytes written.

    ``what`` completes "Could not ..." in errors ("download export 42 to
    out.csv"). ``headers`` go to ``url``'s origin only, never to a host a
    redirect leads to. ``transport`` serves every hop and stays open (the
    caller's, e.g. an in-process sandbox); without one, a transport is made
    per proxy route the environment names and closed at the end.
    Missing parent directories of ``path`` are created.
    """
    target = Path(path)
    policy = retry or RetryPolicy()
    transports = _Transports(transport)
    try:
        attempt = 0
        while True:
            attempt += 1
            outcome = await _attempt(
                transports, url, headers or {}, target, what, timeout, max_redirects, attempt
            )
            if isinstance(outcome, int):
                return outcome
            if attempt >= policy.max_attempts:
                raise outcome.error
            await policy.sleep(policy.delay(attempt, outcome.retry_after))
    finally:
        await transports.aclose()


async def _attempt(
    transports: _Transports,
    url: str,
    headers: Mapping[str, str],
    target: Path,
    what: str,
    timeout: float,
    max_redirects: int,
    attempt: int,
) -> int | _Retryable:
    """One try from ``url`` through its redirects to the file; raises what no retry cures."""
    origin = _origin(httpx.URL(url))
    current = httpx.URL(url)
    seen: list[httpx.URL] = [current]
    for _ in range(max_redirects + 1):
        sent = dict(headers) if _origin(current) == origin else {}
        request = httpx.Request(
            "GET", current, headers=sent, extensions={"timeout": httpx.Timeout(timeout).as_dict()}
        )
        failure = None
        try:
            response = await transports.for_url(current).handle_async_request(request)
        except httpx.TransportError as exc:  # keep type and text only: the request holds headers
            failure = (type(exc), _blanked(_failure_text(exc), seen))
        if failure is not None:
            return _unreachable(current, what, failure, attempt)
        try:
            if response.status_code in _REDIRECTS:
                current = _next_hop(current, response, what)
                seen.append(current)
                continue
            if not 200 <= response.status_code < 300:
                return await _refusal(current, response, what, seen, attempt)
            return await _write(response, target, current, what, attempt)
        finally:
            await response.aclose()
    raise _error(
        f"Could not {what}: {endpoint_label(url)} redirected more than {max_redirects} times "
        "without reaching the file.",
        httpx.URL(url),
    )


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme))


def _next_hop(current: httpx.URL, response: httpx.Response, what: str) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise _error(
            f"Could not {what}: {endpoint_label(str(current))} answered "
            f"{response.status_code} without a Location to follow.",
            current,
            response.status_code,
        )
    return current.join(location)


def _error(
    message: str, url: httpx.URL, status: int | None = None, detail: str | None = None
) -> ApiError:
    """An ``ApiError`` about a GET of ``url``: its path only, never the query."""
    return ApiError(message, status_code=status, detail=detail, method="GET", path=url.path)


def _failure_text(exc: httpx.TransportError) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _tries(attempt: int) -> str:
    return f"{attempt} attempt{'s' if attempt != 1 else ''}"


def _unreachable(
    url: httpx.URL, what: str, failure: tuple[type[httpx.TransportError], str], attempt: int
) -> _Retryable:
    kind, text = failure
    error = ApiUnreachableError(
        f"Cannot reach {endpoint_label(str(url))} to {what} ({text}; {_tries(attempt)}). "
        "Check the network (DNS, proxy, firewall)."
    )
    if classify("GET", error=kind) is not Verdict.RETRY:
        raise error
    return _Retryable(error)


async def _refusal(
    url: httpx.URL, response: httpx.Response, what: str, seen: list[httpx.URL], attempt: int
) -> _Retryable:
    """The error an unwanted status means; ``_Retryable`` when it is worth another try."""
    await response.aread()
    status = response.status_code
    detail = _detail(response, seen)
    error = _error(
        f"Could not {what}: {endpoint_label(str(url))} answered {status} ({detail})"
        f"{f' after {_tries(attempt)}' if attempt > 1 else ''}.{_hint(status)}",
        url,
        status,
        detail,
    )
    if classify("GET", status=status) is not Verdict.RETRY:
        raise error
    return _Retryable(error, parse_retry_after(response.headers.get("Retry-After")))


def _hint(status: int) -> str:
    if status in (401, 403):
        return (
            " The link was refused: download links are signed and expire, so fetch a new one "
            "right before downloading."
        )
    if status in (404, 410):
        return " The file is not there (any more)."
    if status == 429 or status >= 500:
        return " The server is busy or having trouble: try again later."
    return ""


def _detail(response: httpx.Response, seen: list[httpx.URL]) -> str:
    """The server's own short explanation, from known fields only, signatures blanked.

    Object storage answers in XML (``<Code>``, ``<Message>``), APIs in JSON;
    anything else shows only the reason phrase, because a raw body may quote
    the request (S3's ``SignatureDoesNotMatch`` carries the string it signed).
    """
    text = response.text
    parts = [value for _, value in _XML_FIELD.findall(text)]
    if not parts:
        with contextlib.suppress(ValueError):
            body = json.loads(text)
            if isinstance(body, dict):
                parts = [
                    str(body[name])
                    for name in ("message", "detail", "error", "Message")
                    if isinstance(body.get(name), str) and body[name]
                ][:1]
    shown = ": ".join(parts)[:_SHOWN_DETAIL] or response.reason_phrase or "no detail"
    return _blanked(shown, seen)


def _blanked(text: str, urls: list[httpx.URL]) -> str:
    """``text`` with every query value of ``urls`` (signatures, tokens) replaced by ``***``."""
    for url in urls:
        for _, value in url.params.multi_items():
            if len(value) >= 4:
                text = text.replace(value, "***")
    return text


async def _write(
    response: httpx.Response, target: Path, url: httpx.URL, what: str, attempt: int
) -> int | _Retryable:
    """Stream the body into a temporary file beside ``target``, then rename it into place."""
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: never write through a file someone else made; 0o666 honours the umask.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise _local_error(target, what, exc) from None
    written = False
    try:
        with os.fdopen(descriptor, "wb") as handle:
            outcome = await _copy(response, handle, url, what, attempt)
            if isinstance(outcome, _Retryable):
                return outcome
            handle.flush()
            await asyncio.to_thread(os.fsync, handle.fileno())
        temporary.replace(target)
        written = True
        _sync_directory(target.parent)
        return outcome
    except OSError as exc:
        raise _local_error(target, what, exc) from None
    finally:
        if not written:
            with contextlib.suppress(OSError):
                temporary.unlink()


async def _copy(
    response: httpx.Response, handle: IO[bytes], url: httpx.URL, what: str, attempt: int
) -> int | _Retryable:
    """Copy the body to ``handle`` chunk by chunk; the byte count, or why it broke."""
    size = 0
    failure = None
    undecodable = False
    try:
        # Chunks as the network delivers them: each is on disk before the next read.
        async for chunk in response.aiter_bytes():
            handle.write(chunk)
            size += len(chunk)
    except httpx.TransportError as exc:  # type and text only, as above
        failure = (type(exc), _blanked(_failure_text(exc), [url]))
    except httpx.DecodingError:
        undecodable = True
    if undecodable:
        encoding = response.headers.get("content-encoding")
        raise _error(
            f"Could not {what}: {endpoint_label(str(url))} sent a body that is not valid "
            f"{encoding}, although its Content-Encoding says so.",
            url,
            response.status_code,
        )
    if failure is None:
        return size
    kind, text = failure
    error = _error(
        f"Could not {what}: the download from {endpoint_label(str(url))} broke after {size} "
        f"bytes ({text}; {_tries(attempt)}). Nothing was written; try again.",
        url,
        response.status_code,
    )
    if classify("GET", error=kind) is not Verdict.RETRY:
        raise error
    return _Retryable(error)


def _local_error(target: Path, what: str, exc: OSError) -> ExportctlError:
    reason = exc.strerror or type(exc).__name__
    return ExportctlError(
        f"Could not {what}: cannot write {str(target)!r} ({reason}). Check that the download "
        "path is a file in a writable directory."
    )


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable; a no-op where directories cannot be opened (Windows)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


class _Transports:
    """The transport for each hop: the caller's for all, or one per route.

    A redirect may lead to a host that the environment sends through another
    proxy (or none, ``NO_PROXY``), so the route is chosen per URL. Loading
    the CA certificates costs tens of milliseconds, so only routes that do
    TLS (an https URL or proxy) get them; the others get a context that
    trusts nothing and is never used.
    """

    def __init__(self, given: httpx.AsyncBaseTransport | None) -> None:
        self._given = given
        self._own: dict[tuple[str | None, bool], httpx.AsyncHTTPTransport] = {}

    def for_url(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        if self._given is not None:
            return self._given
        proxy = proxy_for(str(url))
        route = (proxy, url.scheme == "https" or (proxy or "").startswith("https:"))
        if route not in self._own:
            tls = (
                httpx.create_ssl_context(trust_env=True)
                if route[1]
                else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            )
            self._own[route] = _open(proxy, url, tls)
        return self._own[route]

    async def aclose(self) -> None:
        for transport in self._own.values():
            await transport.aclose()


def _open(proxy: str | None, url: httpx.URL, tls: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
    """A streaming transport (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` in ``tls``) via ``proxy``."""
    try:
        return httpx.AsyncHTTPTransport(verify=tls, proxy=proxy)
    except (ImportError, ValueError) as exc:  # e.g. socks5:// without socksio
        message = str(exc)
    # Raised outside the except block: the proxy URL may hold a password.
    shown = endpoint_label(proxy) if proxy else "none"
    raise ConfigError(
        f"Cannot use the proxy {shown} that the environment names for "
        f"{endpoint_label(str(url))}: {message}. Check HTTPS_PROXY, HTTP_PROXY and "
        "ALL_PROXY, or exclude the host with NO_PROXY."
    )
