"""Against a hostile server on a real socket: a clear error, bounded time and memory, no leak."""

from __future__ import annotations

import asyncio
import base64
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler import redaction
from reconciler.errors import ApiError, ApiUnreachableError
from reconciler.http.api import DETAIL_LIMIT, ApiSession, Call, StandardWording, body_detail
from reconciler.http.retry import RetryPolicy
from reconciler.http.transport import MAX_ANSWER_BYTES
from reconciler.model import DesiredState
from tests.cli.support import all_output, invoke
from tests.http.hostile import BOMB_INFLATED_BYTES, serve_hostile

LIST = Call("GET", "things", "list the things")


def _get(base_url: str, *, timeout: float = 5.0, retries: int | None = None) -> Any:
    retry = None if retries is None else RetryPolicy(max_attempts=retries)

    async def run() -> Any:
        async with ApiSession(base_url, {}, StandardWording(), timeout=timeout, retry=retry) as api:
            reply = await api.send(LIST)
            return api.json(LIST, reply.response)

    return asyncio.run(run())


def test_a_server_dripping_its_answer_meets_the_request_deadline() -> None:
    with serve_hostile("drip") as base_url:
        start = time.monotonic()
        with pytest.raises(ApiUnreachableError) as caught:
            _get(base_url, timeout=0.3)  # each byte comes well within the read timeout
        elapsed = time.monotonic() - start
    assert "no whole answer within 0.6 s; 1 attempt" in caught.value.message
    assert base_url.removeprefix("http://") in caught.value.message
    assert elapsed < 5


def test_a_gzip_bomb_is_refused_with_memory_bounded() -> None:
    with serve_hostile("gzip-bomb") as base_url:
        tracemalloc.start()
        try:
            with pytest.raises(ApiUnreachableError) as caught:
                _get(base_url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "the answer grew past 64 MiB once decompressed" in caught.value.message
    # Read whole, the bomb alone would take its 256 MiB; capped, about the cap.
    assert MAX_ANSWER_BYTES < peak < BOMB_INFLATED_BYTES // 2


def test_json_nested_beyond_any_parser_is_a_clean_error() -> None:
    with serve_hostile("deep-json") as base_url, pytest.raises(ApiError) as caught:
        _get(base_url)
    assert "unexpected answer (200): the answer is nested too deeply" in caught.value.message


def test_a_server_echoing_a_secret_in_its_error_does_not_get_it_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "hunter2-Secret-9"
    monkeypatch.setattr(redaction, "_secrets_of", lambda desired: iter([secret]))
    redaction.watch(DesiredState((), digest="d"))
    add = Call("POST", "things", "add a thing")

    async def run() -> None:
        async with ApiSession(base_url, {}, StandardWording()) as api:
            reply = await api.send(add, body={"password": secret})
            api.check(add, reply.response)

    with serve_hostile("echo") as base_url, pytest.raises(ApiError) as caught:
        asyncio.run(run())
    assert "invalid request" in caught.value.message
    assert secret not in caught.value.message
    assert secret not in (caught.value.detail or "")
    assert "'password':'***'" in (caught.value.detail or "")


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        ("hang-up", "RemoteProtocolError: Server disconnected without sending a response."),
        ("not-http", "RemoteProtocolError: "),
        ("cut-body", "RemoteProtocolError: peer closed connection without sending complete"),
    ],
)
def test_an_answer_that_breaks_http_is_a_transport_error_after_the_retries(
    mode: str, problem: str
) -> None:
    with serve_hostile(mode) as base_url, pytest.raises(ApiUnreachableError) as caught:
        _get(base_url, retries=1)
    assert problem in caught.value.message
    assert "1 attempt)" in caught.value.message


def test_an_interim_answer_and_a_chunked_body_are_read_as_one_answer() -> None:
    with serve_hostile("chunked-after-continue") as base_url:
        assert _get(base_url) == [1, 2]


MAMMOTH_KEY, MAMMOTH_SECRET = "mk-0123456789abcdef", "ms-fedcba9876543210"
MAILGUN_KEY = "key-0123456789abcdef0123"
MAILGUN_TOKEN = base64.b64encode(f"api:{MAILGUN_KEY}".encode()).decode()


@pytest.mark.parametrize(
    ("example", "settings", "never_shown"),
    [
        (
            "exports.yaml",
            {"MAMMOTH_API_KEY": MAMMOTH_KEY, "MAMMOTH_API_SECRET": MAMMOTH_SECRET},
            [MAMMOTH_KEY, MAMMOTH_SECRET],
        ),
        ("mailgun.yaml", {"MAILGUN_API_KEY": MAILGUN_KEY}, [MAILGUN_KEY, MAILGUN_TOKEN]),
    ],
    ids=["mammoth", "mailgun"],
)
def test_credentials_a_server_echoes_back_are_not_shown(
    example: str, settings: dict[str, str], never_shown: list[str]
) -> None:
    """A proxy's or debug backend's error page may list the request's headers."""
    manifest = Path(__file__).parents[2] / "examples" / example
    with serve_hostile("header-echo") as base_url:
        urls = {"MAMMOTH_BASE_URL": f"{base_url}/api/v2", "MAILGUN_BASE_URL": base_url}
        result = invoke("plan", "-f", manifest, "--format", "json", env={**settings, **urls})
    output = all_output(result)
    assert result.exit_code == 1
    assert "bad request: headers" in output  # the echo itself is shown, scrubbed
    assert [secret for secret in never_shown if secret in output] == []


def test_a_basic_credential_is_hidden_in_each_form_a_server_may_echo() -> None:
    redaction.hide_headers(
        {"Accept": "application/json", "Authorization": f"Basic {MAILGUN_TOKEN}"}
    )
    echoed = f"Accept=application/json; {MAILGUN_TOKEN}; api:{MAILGUN_KEY}; {MAILGUN_KEY}"
    assert redaction.scrub(echoed) == "Accept=application/json; ***; ***; ***"
    redaction.hide(["short"])  # below MIN_CREDENTIAL_LENGTH: the sandbox's "sandbox" stays
    assert redaction.scrub("exportctl sandbox serve short") == "exportctl sandbox serve short"


@pytest.mark.parametrize(
    "echoed",
    [
        'password":"Pg\\"quote\\\\back/x"',  # inside a JSON string, as sent
        'password":"Pg\\"quote\\\\back\\/x"',  # with / escaped too
        "password=Pg%22quote%5Cback%2Fx",  # a form or a query string
        "password=Pg%22quote%5Cback%2Fx&next=1",
    ],
)
def test_a_secret_echoed_in_the_encoding_it_was_sent_in_is_scrubbed(
    monkeypatch: pytest.MonkeyPatch, echoed: str
) -> None:
    secret = 'Pg"quote\\back/x'
    monkeypatch.setattr(redaction, "_secrets_of", lambda desired: iter([secret]))
    redaction.watch(DesiredState((), digest="d"))
    assert redaction.scrub(echoed).startswith(('password":"***"', "password=***"))


def test_a_secret_cut_by_the_detail_limit_is_scrubbed_before_the_cut() -> None:
    secret = "msSECRETVAL456-long"
    redaction.hide([secret])
    for pad in range(DETAIL_LIMIT - len(secret), DETAIL_LIMIT):
        answer = httpx.Response(400, text="x" * pad + secret + " and more")
        detail = body_detail(answer, ("detail",))
        assert secret[:4] not in detail.removeprefix("x" * pad)
