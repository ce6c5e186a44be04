"""The socket transport for one API endpoint: h11 over asyncio streams, pooled.

A plan lists every scope of the manifest, so the client's CPU per request
bounds how fast a large plan can go (``bench/bench_plan.py``: 500 requests at
20 ms latency, 8 in flight, leave 2.5 ms of CPU per request). Measured on the
stock stack, ``httpx.AsyncClient`` over ``httpx.AsyncHTTPTransport`` spent
about 2.5 ms per listing, two thirds of it outside the HTTP exchange itself:
URL merging, cookie extraction, response stream wrappers, a connection pool
that re-matched every queued request on each change, and anyio locks and
cancel scopes around every read and write.

So the clients send through the transport built here, without an
``AsyncClient`` and without httpcore:

- h11 (the protocol library under httpcore) reads and writes HTTP/1.1 on
  asyncio's streams (``_Connection``); the TLS context (``SSL_CERT_FILE``
  and ``SSL_CERT_DIR`` honoured) is the one ``httpx`` builds;
- connections are kept per origin in a pool of its own (``_Pool``) whose
  cost does not grow with ``--parallelism``; an idle socket the server
  closed is noticed with one ``poll`` call before it is reused;
- answers are read whole, decompressed and capped (``read_capped``), and
  handed back as plain ``httpx.Response`` objects (the API's answers are
  small JSON documents; nothing is streamed);
- failures are raised as httpx's exceptions, which is what the clients and
  ``reconciler.http.retry`` classify. Only the method, path and status of
  each request are logged (``reconciler.http``, at debug level): a query or
  a header may hold a secret.

Measured at 500 listings of 20 exports, 8 in flight: 0.60 s of client CPU
through httpcore's connections, 0.43 s through h11 directly.

What ``AsyncClient`` did that exportctl needs is done here once per endpoint:
when ``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY`` (and ``NO_PROXY``) send
the endpoint through a proxy, the stock ``httpx.AsyncHTTPTransport`` is used
with that proxy, speed mattering less than exactly httpx's proxy handling.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import select
import socket
import ssl
import urllib.request
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from types import TracebackType
from typing import Any, TypeAlias

import h11
import httpx

from reconciler.errors import ConfigError

__all__ = [
    "MAX_ANSWER_BYTES",
    "AnswerTooSlowError",
    "PooledTransport",
    "UnreadableAnswerError",
    "endpoint_label",
    "network_transport",
    "proxy_for",
    "read_capped",
]


def network_transport(base_url: str, parallelism: int) -> httpx.AsyncBaseTransport:
    """A pooled transport to ``base_url`` with ``parallelism`` connections at most."""
    limits = httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism)
    proxy = proxy_for(base_url)
    if proxy is None:
        # Loading the CA certificates takes tens of milliseconds: only for TLS.
        tls = httpx.URL(base_url).scheme == "https"
        return PooledTransport(limits, httpx.create_ssl_context(trust_env=True) if tls else None)
    try:
        return httpx.AsyncHTTPTransport(limits=limits, proxy=proxy, trust_env=True)
    except (ImportError, ValueError) as exc:  # e.g. socks5:// without socksio installed
        message = str(exc)
    # Raised outside the except block: the proxy URL may hold a password.
    raise ConfigError(
        f"Cannot use the proxy {endpoint_label(proxy)} that the environment names "
        f"for {endpoint_label(base_url)}: {message}. Check HTTPS_PROXY, HTTP_PROXY and "
        "ALL_PROXY, or exclude the host with NO_PROXY."
    )


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url``, or ``None`` to connect directly.

    The standard library's reading of the variables (upper or lower case,
    ``NO_PROXY`` patterns), which is also the one ``httpx`` builds on.
    """
    parsed = httpx.URL(url)
    if not parsed.host or urllib.request.proxy_bypass(parsed.host):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parsed.scheme) or proxies.get("all") or None


def endpoint_label(url: str) -> str:
    """A URL as it may be shown: no user info, query or fragment."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path.rstrip('/')}"


class PooledTransport(httpx.AsyncBaseTransport):
    """Whole-answer HTTP/1.1 requests over a pool of h11 connections."""

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext | None) -> None:
        """``ssl_context`` verifies https servers; ``None`` means a default one when needed."""
        self._pool = _Pool(
            ssl_context, limits.max_connections or _UNLIMITED, limits.keepalive_expiry
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._pool.handle_async_request(request)

    async def __aenter__(self) -> PooledTransport:
        await self._pool.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        await self._pool.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        await self._pool.aclose()


# No API answer exportctl reads comes near this (a page of exports is tens of
# kilobytes); a server sending more is broken or hostile, and reading on
# would only exhaust memory. Counted after decompression: a small gzip body
# can inflate a thousandfold.
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class UnreadableAnswerError(httpx.TransportError):
    """An answer not worth reading on: too large, or compressed in a way that is broken."""


class AnswerTooSlowError(httpx.TransportError):
    """No whole answer within the request's deadline (a server dripping bytes, say)."""


async def read_capped(
    chunks: AsyncIterator[bytes], headers: httpx.Headers, request: httpx.Request
) -> bytes:
    """An answer's body, decompressed, refused once it grows past ``MAX_ANSWER_BYTES``.

    Decompresses gzip and deflate itself, a bounded piece at a time, and
    removes ``Content-Encoding`` from ``headers``: httpx would otherwise
    inflate the whole body in memory before anyone could look at its size.
    """
    encoding = headers.get("Content-Encoding", "identity").strip().lower()
    inflate = _inflater(encoding, request)
    size = 0
    parts: list[bytes] = []
    async for chunk in chunks:
        pieces = [chunk] if inflate is None else _inflate(inflate, chunk, request)
        for piece in pieces:
            size += len(piece)
            if size > MAX_ANSWER_BYTES:
                raise UnreadableAnswerError(
                    f"the answer grew past {MAX_ANSWER_BYTES // 2**20} MiB"
                    f"{' once decompressed' if inflate else ''}; reading stopped",
                    request=request,
                )
            parts.append(piece)
    if inflate is not None:
        del headers["Content-Encoding"]
    return b"".join(parts)


def _inflater(encoding: str, request: httpx.Request) -> zlib._Decompress | None:
    if encoding in ("identity", ""):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise UnreadableAnswerError(
        f"the answer is encoded as {encoding!r}, which was not asked for", request=request
    )


def _inflate(inflate: zlib._Decompress, chunk: bytes, request: httpx.Request) -> list[bytes]:
    """``chunk`` decompressed in pieces of at most 1 MiB, so no single step is huge."""
    pieces: list[bytes] = []
    data = chunk
    try:
        while data or inflate.unconsumed_tail:
            piece = inflate.decompress(data or inflate.unconsumed_tail, 2**20)
            data = b""
            if not piece and not inflate.unconsumed_tail:
                break
            pieces.append(piece)
    except zlib.error as exc:
        raise UnreadableAnswerError(
            f"the compressed answer is broken ({exc})", request=request
        ) from None
    return pieces


_UNLIMITED = 1_000  # connections when httpx.Limits sets none


class _Pool:
    """HTTP/1.1 connections to a few origins, at most ``size`` in use at once.

    A connection is taken from the idle ones of its origin (the most recently
    used first, dropping any the server closed or that outlived the
    keep-alive expiry) or opened; it goes back once its whole answer is read.
    Each step costs the same whatever the number of connections.
    """

    def __init__(
        self, ssl_context: ssl.SSLContext | None, size: int, keepalive_expiry: float | None
    ) -> None:
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._slots = asyncio.Semaphore(size)
        self._idle: dict[_Origin, list[_Connection]] = {}
        # Every connection not yet closed, idle or not: closing the pool closes
        # them all, also one whose request was cancelled half way.
        self._open: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(
                f"unsupported URL scheme {url.scheme!r}", request=request
            )
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection in time", request=request) from None
        try:
            origin = (
                url.scheme,
                url.raw_host.decode("ascii"),
                url.port or _DEFAULT_PORTS[url.scheme],
            )
            connection = await self._connection(origin, request, timeouts.get("connect"))
            try:
                answer = await connection.exchange(request, timeouts)
            except BaseException:
                await self._close(connection)
                raise
            await self._give_back(origin, connection)
        finally:
            self._slots.release()
        if _log.isEnabledFor(logging.DEBUG):  # the path only: a query or header may hold a secret
            _log.debug("%s %s -> %d", request.method, url.path, answer.status_code)
        return answer

    async def _connection(
        self, origin: _Origin, request: httpx.Request, timeout: float | None
    ) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.reusable():
                return connection
            await self._close(connection)
        scheme, host, port = origin
        tls = self._tls() if scheme == "https" else None
        reader, writer = await _connect(host, port, tls, timeout, request)
        connection = _Connection(reader, writer, self._keepalive_expiry)
        self._open.add(connection)
        return connection

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context(trust_env=True)
        self._ssl_context.set_alpn_protocols(["http/1.1"])
        return self._ssl_context

    async def _close(self, connection: _Connection) -> None:
        self._open.discard(connection)
        await connection.aclose()

    async def _give_back(self, origin: _Origin, connection: _Connection) -> None:
        """Reuse the connection if it can carry another request; close it otherwise."""
        if connection.reusable():
            self._idle.setdefault(origin, []).append(connection)
        else:
            await self._close(connection)

    async def __aenter__(self) -> _Pool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._idle.clear()
        for connection in list(self._open):
            await self._close(connection)


_Origin: TypeAlias = tuple[str, str, int]  # scheme, host, port
_DEFAULT_PORTS = {"http": 80, "https": 443}
_log = logging.getLogger("reconciler.http")


async def _connect(
    host: str,
    port: int,
    tls: ssl.SSLContext | None,
    timeout: float | None,
    request: httpx.Request,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A socket to ``host:port`` (TLS verified against ``host`` when ``tls`` is given)."""
    try:
        async with asyncio.timeout(timeout):
            return await asyncio.open_connection(
                host,
                port,
                ssl=tls,
                server_hostname=host if tls else None,
                happy_eyeballs_delay=None if _is_address(host) else _HAPPY_EYEBALLS_DELAY_S,
            )
    except TimeoutError:
        message = f"no connection to {host}:{port} within {timeout} s"
        raise httpx.ConnectTimeout(message, request=request) from None
    except ssl.SSLError as exc:  # a bad certificate, say: its own words say it best
        raise httpx.ConnectError(str(exc), request=request) from exc
    except OSError as exc:
        raise httpx.ConnectError(_connect_failure(host, port, exc), request=request) from exc


def _is_address(host: str) -> bool:
    """An IP address has no other address to race: asyncio's race (Python 3.11)
    leaves its socket unclosed when the connect is cancelled half way."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _connect_failure(host: str, port: int, exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {host}:{port}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host {host!r} ({exc.strerror})"
    return f"cannot connect to {host}:{port} ({exc.strerror or exc})"


class _Connection:
    """One HTTP/1.1 connection: h11's state machine over an asyncio stream.

    h11 does the protocol (framing, chunked bodies, keep-alive rules, strict
    parsing of whatever the server sends); this class only moves bytes, with
    a timeout on each read and write, and reads every answer whole.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        keepalive_expiry: float | None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._socket: socket.socket = writer.get_extra_info("socket")
        self._h11 = h11.Connection(h11.CLIENT)
        self._keepalive_expiry = keepalive_expiry
        self._idle_since = asyncio.get_running_loop().time()

    def reusable(self) -> bool:
        """Idle between requests, not past its expiry, and not closed by the server.

        An idle keep-alive socket that is readable was closed by the server
        (or sent garbage): either way another request must not go out on it.
        """
        if self._h11.our_state is not h11.IDLE or self._h11.their_state is not h11.IDLE:
            return False
        expiry = self._keepalive_expiry
        if expiry is not None and asyncio.get_running_loop().time() - self._idle_since > expiry:
            return False
        return not _readable(self._socket)

    async def exchange(
        self, request: httpx.Request, timeouts: Mapping[str, float | None]
    ) -> httpx.Response:
        """Send ``request``, then read its whole answer (decompressed, capped)."""
        head = h11.Request(
            method=request.method, target=request.url.raw_path, headers=request.headers.raw
        )
        outgoing = [self._h11.send(head)]
        if request.content:
            outgoing.append(self._h11.send(h11.Data(data=request.content)))
        outgoing.append(self._h11.send(h11.EndOfMessage()))
        await self._write(b"".join(part for part in outgoing if part), timeouts.get("write"))
        trace = request.extensions.get("trace")
        if trace is not None:  # httpcore's name for the moment the request is out
            await trace("http11.send_request_body.complete", {"request": request})
        read_timeout = timeouts.get("read")
        answer = await self._answer_head(read_timeout, request)
        headers = httpx.Headers(answer.headers.raw_items())
        async with contextlib.aclosing(self._answer_body(read_timeout, request)) as chunks:
            body = await read_capped(chunks, headers, request)
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
            self._idle_since = asyncio.get_running_loop().time()
        reason = answer.reason.decode("ascii", "replace")
        return httpx.Response(
            answer.status_code,
            headers=headers,
            content=body,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason.encode()},
        )

    async def _answer_head(self, timeout: float | None, request: httpx.Request) -> h11.Response:
        while True:
            event = await self._next_event(timeout, request)
            if isinstance(event, h11.Response):
                return event
            if not isinstance(event, h11.InformationalResponse):  # 1xx: the answer follows
                raise httpx.RemoteProtocolError(
                    f"unexpected {type(event).__name__} before the answer", request=request
                )

    async def _answer_body(
        self, timeout: float | None, request: httpx.Request
    ) -> AsyncGenerator[bytes, None]:
        while True:
            event = await self._next_event(timeout, request)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise httpx.RemoteProtocolError(
                    f"unexpected {type(event).__name__} in the answer's body", request=request
                )

    async def _next_event(self, timeout: float | None, request: httpx.Request) -> Any:
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from exc
            if event is not h11.NEED_DATA:
                return event
            data = await self._read(timeout, request)
            if not data and self._h11.their_state is h11.SEND_RESPONSE:
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )
            self._h11.receive_data(data)

    async def _read(self, timeout: float | None, request: httpx.Request) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(_READ_SIZE)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no data within {timeout} s", request=request) from None
        except OSError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc

    async def _write(self, data: bytes, timeout: float | None) -> None:
        try:
            self._writer.write(data)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout(f"could not send within {timeout} s") from None
        except OSError as exc:
            raise httpx.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await self._writer.wait_closed()


_READ_SIZE = 64 * 1024
_CLOSE_TIMEOUT_S = 1.0  # closing waits this long at most for TLS to shut down
# With several addresses (IPv6 and IPv4), try the next one after this long
# instead of waiting out a silent one (RFC 8305's value, as anyio uses).
_HAPPY_EYEBALLS_DELAY_S = 0.25


def _readable(sock: socket.socket) -> bool:
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([sock], [], [], 0)[0])
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
