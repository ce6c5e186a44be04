"""The socket transport for one Mammoth endpoint: a lean path over httpcore.

A plan lists every dataview of the manifest, so the client's CPU per request
bounds how fast a large plan can go (``bench/bench_plan.py``: 500 requests at
20 ms latency, 8 in flight, leave 2.5 ms of CPU per request). Measured on the
stock stack, ``httpx.AsyncClient`` over ``httpx.AsyncHTTPTransport`` spent
about 2.5 ms per listing, two thirds of it outside the HTTP exchange itself:
URL merging, cookie extraction, response stream wrappers, and a connection
pool that asks anyio for every idle socket's state on every request.

So ``MammothClient`` sends through the transport built here, without an
``AsyncClient``:

- httpcore's HTTP/1.1 connections and the TLS context (``SSL_CERT_FILE``
  and ``SSL_CERT_DIR`` honoured) that ``httpx`` builds, kept in a pool of
  its own (``_Pool``): httpcore's matches every queued request against every
  connection on each change, CPU per answer that grew with ``--parallelism``
  (a third of the client's CPU at 16 in flight);
- answers read whole and handed back as plain ``httpx.Response`` objects
  (the API's answers are small JSON documents; nothing is streamed);
- a network backend on asyncio's streams instead of anyio: no cancel scope
  per read and write, and the pool's "is this idle socket readable?" answered
  with one ``poll`` call;
- httpcore's errors turned into httpx's of the same name, which is what
  ``MammothClient`` and ``reconciler.http.retry`` classify.

What ``AsyncClient`` did that exportctl needs is done here once per endpoint:
when ``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY`` (and ``NO_PROXY``) send
the endpoint through a proxy, the stock ``httpx.AsyncHTTPTransport`` is used
with that proxy, speed mattering less than exactly httpx's proxy handling.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import urllib.request
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any

import httpcore
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
    """Whole-answer HTTP/1.1 requests over one ``httpcore`` connection pool."""

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext | None) -> None:
        """``ssl_context`` verifies https servers; ``None`` leaves httpcore's default."""
        self._pool = _Pool(
            ssl_context, limits.max_connections or _UNLIMITED, limits.keepalive_expiry
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        target = httpcore.URL(
            scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
        )
        core_request = httpcore.Request(
            request.method,
            target,
            headers=request.headers.raw,
            content=request.content,
            extensions=request.extensions,
        )
        try:
            answer = await self._pool.handle_async_request(core_request)
            try:
                headers = httpx.Headers(answer.headers)
                body = await read_capped(answer.aiter_stream(), headers, request)
            finally:
                await answer.aclose()
        except _HTTPCORE_ERRORS as exc:
            raise _as_httpx(exc, request) from exc
        return httpx.Response(
            answer.status, headers=headers, content=body, extensions=answer.extensions
        )

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
    keep-alive expiry) or opened; it comes back when its answer is closed.
    Each step costs the same whatever the number of connections.
    """

    def __init__(
        self, ssl_context: ssl.SSLContext | None, size: int, keepalive_expiry: float | None
    ) -> None:
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._slots = asyncio.Semaphore(size)
        # By origin (scheme, host, port): httpcore's Origin is not hashable.
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.AsyncHTTPConnection]] = {}
        # Every connection not yet closed, idle or not: closing the pool closes
        # them all, also one whose request was cancelled half way.
        self._open: set[httpcore.AsyncHTTPConnection] = set()
        self._backend = _AsyncioBackend()

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if request.url.scheme not in (b"http", b"https"):
            raise httpcore.UnsupportedProtocol(f"unsupported URL scheme {request.url.scheme!r}")
        try:
            async with asyncio.timeout(request.extensions.get("timeout", {}).get("pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise httpcore.PoolTimeout("no free connection in time") from None
        origin = request.url.origin
        try:
            connection = await self._connection(origin)
            try:
                answer = await connection.handle_async_request(request)
            except BaseException:
                await self._close(connection)
                raise
        except BaseException:
            self._slots.release()
            raise
        stream = _Returning(answer.stream, lambda: self._give_back(origin, connection))
        return httpcore.Response(
            answer.status, headers=answer.headers, content=stream, extensions=answer.extensions
        )

    async def _connection(self, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        idle = self._idle.get(_key(origin), [])
        while idle:
            connection = idle.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            await self._close(connection)
        connection = httpcore.AsyncHTTPConnection(
            origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
            network_backend=self._backend,
        )
        self._open.add(connection)
        return connection

    async def _close(self, connection: httpcore.AsyncHTTPConnection) -> None:
        self._open.discard(connection)
        await connection.aclose()

    async def _give_back(
        self, origin: httpcore.Origin, connection: httpcore.AsyncHTTPConnection
    ) -> None:
        """After the answer's end: reuse the connection if it can carry another request.

        One that cannot (its answer was abandoned half read: too large, too
        slow) is closed here; dropped, its socket would linger until collected.
        """
        self._slots.release()
        if connection.is_idle():
            self._idle.setdefault(_key(origin), []).append(connection)
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
        await self._backend.aclose()


def _key(origin: httpcore.Origin) -> tuple[bytes, bytes, int]:
    return (origin.scheme, origin.host, origin.port)


class _Returning:
    """An answer's body that gives its connection back when closed."""

    def __init__(self, stream: Any, give_back: Callable[[], Awaitable[None]]) -> None:
        self._stream = stream
        self._give_back: Callable[[], Awaitable[None]] | None = give_back

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            give_back, self._give_back = self._give_back, None
            if give_back is not None:  # once, however often it is closed
                await give_back()


_HTTPCORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
)


def _as_httpx(exc: Exception, request: httpx.Request) -> httpx.TransportError:
    """httpx's exception of the same name (httpx mirrors httpcore's tree)."""
    for kind in type(exc).__mro__:
        mapped = getattr(httpx, kind.__name__, None)
        if isinstance(mapped, type) and issubclass(mapped, httpx.TransportError):
            return mapped(str(exc), request=request)
    return httpx.TransportError(str(exc), request=request)


class _AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Sockets on asyncio's streams, for httpcore's connection pool (see module doc).

    httpcore's default backend goes through anyio, whose cancel scopes and
    attribute lookups on every read, write and idle check cost more than the
    HTTP exchange of a small answer. exportctl runs on asyncio only.
    """

    def __init__(self) -> None:
        self._streams: set[_AsyncioStream] = set()  # open sockets, until closed

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=local, happy_eyeballs_delay=_HAPPY_EYEBALLS_DELAY_S
                )
        except TimeoutError:
            message = f"no connection to {host}:{port} within {timeout} s"
            raise httpcore.ConnectTimeout(message) from None
        except OSError as exc:
            raise httpcore.ConnectError(_connect_failure(host, port, exc)) from exc
        stream = _AsyncioStream(reader, writer, self._streams)
        for option in socket_options or ():
            stream.socket.setsockopt(*option)
        return stream

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def aclose(self) -> None:
        """Close every socket still open, also one no connection took over.

        httpcore awaits its trace hook between opening a socket and handing it
        to its connection: a request cancelled there (listings ahead of an
        invalid manifest) leaves a socket only this backend still knows.
        """
        for stream in list(self._streams):
            await stream.aclose()


def _connect_failure(host: str, port: int, exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {host}:{port}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host {host!r} ({exc.strerror})"
    return f"cannot connect to {host}:{port} ({exc.strerror or exc})"


class _AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        registry: set[_AsyncioStream],
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._registry = registry
        registry.add(self)
        self.socket: socket.socket = writer.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout(f"no data within {timeout} s") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout(f"could not send within {timeout} s") from None
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        self._registry.discard(self)
        self._writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await self._writer.wait_closed()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no TLS handshake within {timeout} s") from None
        except OSError as exc:  # ssl.SSLError (a bad certificate, say) is an OSError
            raise httpcore.ConnectError(str(exc)) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # An idle keep-alive socket that is readable was closed by the
            # server (or sent garbage): either way the pool must not reuse it.
            return _readable(self.socket)
        if info == "socket":
            return self.socket
        name = _TRANSPORT_INFO.get(info)
        return self._writer.get_extra_info(name) if name else None


# httpcore's names for connection facts -> asyncio's.
_TRANSPORT_INFO = {"ssl_object": "ssl_object", "client_addr": "sockname", "server_addr": "peername"}
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
