"""The client's own transport: TLS, stale keep-alive connections, timeouts, proxies.

Everything that needs a server runs the sandbox on a real loopback socket,
over https where TLS is under test (certificates from trustme, made per run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from reconciler.errors import ApiUnreachableError, ConfigError
from reconciler.http import transport
from reconciler.http.retry import RetryPolicy
from reconciler.http.transport import PooledTransport, network_transport, proxy_for
from reconciler.providers.mammoth.client import MammothClient
from reconciler.providers.mammoth.sandbox.seed import add_exports
from reconciler.sandbox.config import SandboxConfig
from tests.conftest import SANDBOX_HEADERS, SandboxFactory
from tests.providers.mammoth.client.support import REF, SleepLog, instant_policy, run, s3_body
from tests.sandboxes import RunningSandbox, serve_in_thread

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from an environment that names no proxy, whatever the machine's."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_sandbox(tmp_path: Path, authority: trustme.CA) -> Iterator[RunningSandbox]:
    """The sandbox over https with a certificate for 127.0.0.1 signed by ``authority``."""
    cert = authority.issue_cert("127.0.0.1")
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(chain)
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(chain, append=True)
    cert.private_key_pem.write_to_path(key)
    options = {"ssl_certfile": str(chain), "ssl_keyfile": str(key)}
    with serve_in_thread(tmp_path / "tls.db", SandboxConfig(), **options) as server:
        yield server


def _list(base_url: str, *, timeout: float = 30.0, retry: RetryPolicy | None = None) -> list[int]:
    async def listing() -> list[int]:
        client = MammothClient(base_url, "sandbox", "sandbox", timeout=timeout, retry=retry)
        async with client:
            return [record["id"] for record in await client.list_exports(REF)]

    return run(listing())


def test_https_is_verified_against_ssl_cert_file(
    https_sandbox: RunningSandbox,
    authority: trustme.CA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = add_exports(https_sandbox.store, REF, [s3_body("a.csv"), s3_body("b.csv")])
    authority.cert_pem.write_to_path(tmp_path / "ca.pem")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    assert https_sandbox.base_url.startswith("https://")
    assert _list(https_sandbox.base_url) == ids


def test_an_untrusted_certificate_is_refused_with_the_reason(
    https_sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    https_sandbox.store.ensure_dataviews([REF])
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with pytest.raises(ApiUnreachableError) as caught:
        _list(https_sandbox.base_url, retry=instant_policy(SleepLog(), max_attempts=1))
    assert "ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED]" in caught.value.message
    assert https_sandbox.base_url in caught.value.message


def test_a_write_after_the_server_closed_the_idle_connection_is_sent_once(
    tmp_path: Path,
) -> None:
    """The pool must notice the closed keep-alive socket before reusing it.

    Sent on a socket the server already closed, an add gets no answer and
    would be reported as 'may have landed' (MaybeLandedError) instead of done.
    """
    config = SandboxConfig(job_delay_ms=0)  # the add is done when answered (202, job ended)
    with serve_in_thread(tmp_path / "k.db", config, timeout_keep_alive=0.05) as server:
        server.store.ensure_dataviews([REF])

        async def list_wait_add() -> int | None:
            async with MammothClient(server.base_url, "sandbox", "sandbox") as client:
                await client.list_exports(REF)
                await asyncio.sleep(0.3)  # the server closes the idle connection meanwhile
                result = await client.add_export(REF, s3_body("late.csv", key="late"))
                return result.status_code

        assert run(list_wait_add()) == 202
        assert len(_list(server.base_url)) == 1


def test_connections_are_reused_and_never_more_than_the_pool_size(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[int] = []
    real_connect = transport._connect

    async def counting_connect(
        host: str, port: int, *args: Any
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        opened.append(port)
        return await real_connect(host, port, *args)

    monkeypatch.setattr(transport, "_connect", counting_connect)
    health = httpx.Request("GET", f"{sandbox.root_url}/_sandbox/health", headers=SANDBOX_HEADERS)

    async def thirty_requests_three_at_a_time() -> list[int]:
        async with network_transport(sandbox.base_url, 3) as pooled:
            answers = await asyncio.gather(
                *(pooled.handle_async_request(health) for _ in range(30))
            )
            again = await pooled.handle_async_request(health)
        return [answer.status_code for answer in [*answers, again]]

    assert run(thirty_requests_three_at_a_time()) == [200] * 31
    assert len(opened) == 3


def test_a_slow_answer_is_a_read_timeout(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(latency_ms=500)
    server.store.ensure_dataviews([REF])
    with pytest.raises(ApiUnreachableError) as caught:
        _list(server.base_url, timeout=0.05, retry=instant_policy(SleepLog(), max_attempts=2))
    assert "(ReadTimeout: no data within 0.05 s; 2 attempts)" in caught.value.message


def test_the_proxy_comes_from_the_environment_for_the_url_scheme(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://plain.internal:8080")
    monkeypatch.setenv("NO_PROXY", "sandbox.local,.corp.example")
    assert proxy_for("https://app.mammoth.io/api/v2") == "http://proxy.internal:3128"
    assert proxy_for("http://mammoth.test/api/v2") == "http://plain.internal:8080"
    assert proxy_for("https://api.corp.example/api/v2") is None
    assert proxy_for("http://sandbox.local:8000/api/v2") is None


def test_all_proxy_covers_any_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "http://every.internal:3128")
    assert proxy_for("https://app.mammoth.io/api/v2") == "http://every.internal:3128"


def test_without_a_proxy_the_lean_transport_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(network_transport("https://app.mammoth.io/api/v2", 4), PooledTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    through_proxy = network_transport("https://app.mammoth.io/api/v2", 4)
    assert isinstance(through_proxy, httpx.AsyncHTTPTransport)


def test_an_unusable_proxy_is_a_config_error_that_hides_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks5://me:hunter2@socks.internal:1080")
    with pytest.raises(ConfigError) as caught:
        network_transport("https://app.mammoth.io/api/v2", 4)
    message = caught.value.message
    assert message.startswith(
        "Cannot use the proxy socks5://socks.internal:1080 that the environment names for "
        "https://app.mammoth.io/api/v2: "
    )
    assert "hunter2" not in message
    assert "me:" not in message
