"""The streaming download helper, over real loopback sockets.

Two small servers stand for an API (which redirects) and object storage (which
holds the file), so a redirect really crosses to another origin.
"""

from __future__ import annotations

import asyncio
import gzip
import random
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from reconciler.errors import ApiError, ApiUnreachableError, ExportctlError
from reconciler.http.download import download
from reconciler.http.retry import RetryPolicy
from reconciler.sandbox.server import serve_app_in_thread

AUTH = {"Authorization": "Basic YXBpOnRvcHNlY3JldA=="}
SIGNATURE = "c2lnbmVkLXNlY3JldC12YWx1ZQ"
CONTENT = random.Random(7).randbytes(300_000)  # several chunks


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback servers are reached directly, whatever proxies this machine names."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


class Storage:
    """Object storage: serves the file and remembers the headers each request carried."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        self.flaky_failures = 0

    def app(self) -> Starlette:
        async def file(request: Request) -> Response:
            self.seen.append(dict(request.headers))
            return Response(CONTENT, media_type="text/csv")

        async def flaky(request: Request) -> Response:
            if self.flaky_failures:
                self.flaky_failures -= 1
                return Response("busy", status_code=503, headers={"Retry-After": "2"})
            return Response(CONTENT)

        async def expired(request: Request) -> Response:
            body = (
                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message>"
                f"<StringToSign>GET /file?X-Amz-Signature={SIGNATURE}</StringToSign></Error>"
            )
            return Response(body, status_code=403, media_type="application/xml")

        async def loop(request: Request) -> Response:
            return RedirectResponse("/loop", status_code=302)

        async def gzipped(request: Request) -> Response:
            return Response(gzip.compress(CONTENT), headers={"Content-Encoding": "gzip"})

        return Starlette(
            routes=[
                Route("/file", file),
                Route("/flaky", flaky),
                Route("/expired", expired),
                Route("/loop", loop),
                Route("/gzipped", gzipped),
                Route("/broken", _Broken()),
            ]
        )


class _Broken:
    """Promises 1000 bytes, sends 100 and stops: the server closes the connection mid-body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-length", b"1000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"x" * 100, "more_body": True})


def api_app(storage_root: str) -> Starlette:
    """An API that wants the credentials and sends the client on to the file."""

    async def start(request: Request) -> Response:
        if request.headers.get("authorization") != AUTH["Authorization"]:
            return Response("no auth", status_code=401)
        target = f"{storage_root}/file?X-Amz-Signature={SIGNATURE}"
        return RedirectResponse(target, status_code=302)

    async def relative(request: Request) -> Response:
        return RedirectResponse("/echo", status_code=307)

    async def echo(request: Request) -> Response:
        return Response(request.headers.get("authorization", "none"))

    async def bare(request: Request) -> Response:
        return Response(status_code=302)

    return Starlette(
        routes=[
            Route("/start", start),
            Route("/relative", relative),
            Route("/echo", echo),
            Route("/bare", bare),
        ]
    )


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Storage, str, str]]:
    """Both servers once per module (starting and stopping them is most of a test's time)."""
    storage = Storage()
    with (
        serve_app_in_thread(storage.app()) as storage_root,
        serve_app_in_thread(api_app(storage_root)) as api_root,
    ):
        yield storage, storage_root, api_root


@pytest.fixture
def storage(servers: tuple[Storage, str, str]) -> Storage:
    servers[0].seen.clear()
    servers[0].flaky_failures = 0
    return servers[0]


@pytest.fixture
def storage_root(servers: tuple[Storage, str, str], storage: Storage) -> str:
    return servers[1]


@pytest.fixture
def api_root(servers: tuple[Storage, str, str], storage: Storage) -> str:
    return servers[2]


class Sleeps:
    """A retry policy's sleep that records the delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def policy(sleeps: Sleeps, attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, base_delay=1, max_delay=5, jitter=False, sleep=sleeps)


def fetch(url: str, path: Path, **options: Any) -> int:
    return asyncio.run(download(url, path, what="download the report", **options))


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def test_streams_the_file_across_a_redirect_and_returns_its_size(
    api_root: str, storage: Storage, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "report.csv"  # the directory does not exist yet
    assert fetch(f"{api_root}/start", target, headers=AUTH) == len(CONTENT)
    assert target.read_bytes() == CONTENT
    assert leftovers(target.parent) == []


def test_credentials_never_reach_another_host(
    api_root: str, storage: Storage, tmp_path: Path
) -> None:
    fetch(f"{api_root}/start", tmp_path / "r.csv", headers=AUTH)
    assert storage.seen, "the storage server was not asked"
    assert all("authorization" not in headers for headers in storage.seen)


def test_credentials_follow_a_redirect_within_the_same_origin(
    api_root: str, tmp_path: Path
) -> None:
    target = tmp_path / "echo.txt"
    fetch(f"{api_root}/relative", target, headers=AUTH)
    assert target.read_text() == AUTH["Authorization"]


def test_an_existing_file_is_replaced_whole(storage_root: str, tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_bytes(b"old contents")
    fetch(f"{storage_root}/file", target)
    assert target.read_bytes() == CONTENT


def test_a_body_cut_short_leaves_the_old_file_and_no_part_file(
    storage_root: str, tmp_path: Path
) -> None:
    target = tmp_path / "report.csv"
    target.write_bytes(b"old contents")
    sleeps = Sleeps()
    with pytest.raises(ApiError, match="broke after 100 bytes") as caught:
        fetch(f"{storage_root}/broken", target, retry=policy(sleeps, attempts=2))
    assert "2 attempts" in str(caught.value)
    assert len(sleeps.delays) == 1  # a GET that broke is tried again
    assert target.read_bytes() == b"old contents"
    assert leftovers(tmp_path) == []


def test_a_refusal_shows_the_servers_reason_but_no_signature(
    storage_root: str, tmp_path: Path
) -> None:
    target = tmp_path / "report.csv"
    url = f"{storage_root}/expired?X-Amz-Signature={SIGNATURE}&X-Amz-Expires=900"
    with pytest.raises(ApiError) as caught:
        fetch(url, target)
    error = caught.value
    assert error.status_code == 403
    assert "AccessDenied: Request has expired" in str(error)
    assert "signed and expire" in str(error)  # what to do about it
    shown = [str(error), repr(error), *(repr(v) for v in vars(error).values())]
    assert all(SIGNATURE not in text and "X-Amz" not in text for text in shown)
    assert error.path == "/expired"
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_5xx_is_retried_honouring_retry_after(
    storage_root: str, storage: Storage, tmp_path: Path
) -> None:
    storage.flaky_failures = 2
    sleeps = Sleeps()
    target = tmp_path / "report.csv"
    assert fetch(f"{storage_root}/flaky", target, retry=policy(sleeps)) == len(CONTENT)
    assert sleeps.delays == [2.0, 2.0]
    assert target.read_bytes() == CONTENT


def test_5xx_that_persists_says_how_often_it_was_tried(
    storage_root: str, storage: Storage, tmp_path: Path
) -> None:
    storage.flaky_failures = 10
    with pytest.raises(ApiError, match=r"answered 503 \(Service Unavailable\) after 3 attempts"):
        fetch(f"{storage_root}/flaky", tmp_path / "r.csv", retry=policy(Sleeps(), attempts=3))


def test_a_redirect_loop_is_cut_off(storage_root: str, tmp_path: Path) -> None:
    with pytest.raises(ApiError, match="redirected more than 3 times"):
        fetch(f"{storage_root}/loop", tmp_path / "r.csv", max_redirects=3)


def test_a_redirect_without_location_is_an_error(api_root: str, tmp_path: Path) -> None:
    with pytest.raises(ApiError, match="302 without a Location"):
        fetch(f"{api_root}/bare", tmp_path / "r.csv")


def test_a_gzip_encoded_body_is_written_decoded(storage_root: str, tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    assert fetch(f"{storage_root}/gzipped", target) == len(CONTENT)
    assert target.read_bytes() == CONTENT


def test_no_server_is_unreachable_after_retries(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    url = f"http://127.0.0.1:{port}/file?X-Amz-Signature={SIGNATURE}"
    with pytest.raises(ApiUnreachableError, match="2 attempts") as caught:
        fetch(url, tmp_path / "r.csv", retry=policy(sleeps, attempts=2))
    assert SIGNATURE not in str(caught.value)
    assert f"127.0.0.1:{port}/file" in str(caught.value)
    assert len(sleeps.delays) == 1


def test_an_unwritable_path_is_a_clear_local_error(storage_root: str, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(ExportctlError, match="cannot write") as caught:
        fetch(f"{storage_root}/file", blocker / "r.csv")
    assert not isinstance(caught.value, ApiError)
    assert "download path" in str(caught.value)


@pytest.fixture(scope="module")
def https_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The storage app over https, with a certificate from a CA of our own (and its file)."""
    authority = trustme.CA()
    directory = tmp_path_factory.mktemp("tls")
    cert = authority.issue_cert("127.0.0.1")
    chain, key, ca = directory / "chain.pem", directory / "key.pem", directory / "ca.pem"
    for index, pem in enumerate(cert.cert_chain_pems):
        pem.write_to_path(chain, append=index > 0)
    cert.private_key_pem.write_to_path(key)
    authority.cert_pem.write_to_path(ca)
    options = {"ssl_certfile": str(chain), "ssl_keyfile": str(key)}
    with serve_app_in_thread(Storage().app(), **options) as root:
        yield root, ca


def test_https_is_verified_against_ssl_cert_file(
    https_storage: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, ca = https_storage
    with pytest.raises(ApiUnreachableError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(f"{root}/file", tmp_path / "r.csv", retry=policy(Sleeps(), attempts=1))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    assert fetch(f"{root}/file", tmp_path / "r.csv") == len(CONTENT)
