"""Refusals as a user reads them, and no secret in any of them.

The token and the AWS credentials must not reach a message, an error's
fields, a ``repr`` or a traceback, also when a server echoes them back: the
echoing server here is a stand-in for a misbehaving Domo, not for our client.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from reconciler.errors import ApiError, AuthError, MaybeLandedError, NotFoundError
from reconciler.http.api import DETAIL_LIMIT
from reconciler.providers.domo.client import DomoClient
from reconciler.sandbox.server import serve_app_in_thread
from tests.providers.domo.conftest import DomoFactory
from tests.providers.domo.support import (
    ACCESS_KEY,
    DATASET,
    SECRETS,
    DomoSandbox,
    SleepLog,
    entry,
    instant_retry,
    run,
)

TOKEN = "dev-token-0123456789abcdef"


def everything_shown(error: BaseException) -> str:
    """Every text a user or a log could see of an error, its chain included."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += [repr(v) for v in vars(error).values()]
    return "\n".join(texts)


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
        assert json.dumps(secret)[1:-1] not in text


def start(client: DomoClient) -> None:
    async def go() -> None:
        async with client:
            await client.start_export(entry().request, key="daily-sales")

    run(go())


def read(client: DomoClient) -> None:
    async def go() -> None:
        async with client:
            await client.list_exports(DATASET, key="daily-sales")

    run(go())


def test_a_wrong_token_is_a_401_that_names_the_variable_not_the_token(
    domo_factory: DomoFactory,
) -> None:
    sandbox = domo_factory(token=TOKEN)
    sandbox.dataset()
    wrong = "wrong-token-fedcba9876543210"
    with pytest.raises(AuthError) as caught:
        read(sandbox.client(token=wrong))
    assert caught.value.status_code == 401
    assert "DOMO_DEVELOPER_TOKEN" in str(caught.value)
    assert_no_secret(everything_shown(caught.value), wrong, TOKEN)


def test_a_dataset_not_shared_with_the_token_is_a_403_that_says_so(
    domo_factory: DomoFactory,
) -> None:
    sandbox = domo_factory(token=TOKEN)
    sandbox.dataset(readable=False)
    with pytest.raises(AuthError) as caught:
        start(sandbox.client())
    assert caught.value.status_code == 403
    assert "READ access" in str(caught.value)
    assert_no_secret(everything_shown(caught.value), TOKEN, *SECRETS)


def test_an_unknown_dataset_is_a_404_pointing_at_the_manifest(domo: DomoSandbox) -> None:
    with pytest.raises(NotFoundError) as caught:
        read(domo.client())
    message = str(caught.value)
    assert f"DataSet {DATASET} not found (404)" in message
    assert "'daily-sales'" in message and "dataset_id" in message


def test_a_404_that_is_not_domos_blames_the_url_not_the_manifest() -> None:
    with serve_app_in_thread(Starlette()) as root, pytest.raises(NotFoundError) as caught:
        read(DomoClient(root + "/wrong", TOKEN))
    message = str(caught.value)
    assert "not a Domo API error" in message and "DOMO_BASE_URL" in message
    assert "dataset_id" not in message


def test_the_clients_repr_shows_the_endpoint_only(domo_factory: DomoFactory) -> None:
    sandbox = domo_factory(token=TOKEN)
    client = sandbox.client()
    assert repr(client) == f"DomoClient({sandbox.root_url!r}, parallelism=8)"
    request = entry().request
    shown = repr(client) + repr(request) + str(request.credentials) + repr(entry())
    assert_no_secret(shown, TOKEN, *SECRETS)


def _echo_app(status: int, *, text: bool = False) -> Starlette:
    """A server that answers every POST with an error quoting the request it got."""

    async def export(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse([])
        echoed = f"{(await request.body()).decode()} {dict(request.headers)}"
        if text:
            # Padded so that a shown piece of 500 characters would end inside the key.
            pad = DETAIL_LIMIT - echoed.index(ACCESS_KEY) - 8
            return PlainTextResponse("x" * pad + echoed, status_code=status)
        return JSONResponse({"status": status, "message": echoed}, status_code=status)

    return Starlette(routes=[Route("/api/query/v1/export/{d}", export, methods=["GET", "POST"])])


@pytest.fixture(params=[(400, False), (400, True), (500, False), (503, True)])
def echoing_server(request: pytest.FixtureRequest) -> Iterator[str]:
    status, text = request.param
    with serve_app_in_thread(_echo_app(status, text=text)) as root:
        yield root


def test_secrets_a_server_echoes_never_reach_the_error(echoing_server: str) -> None:
    client = DomoClient(echoing_server, TOKEN, retry=instant_retry(SleepLog(), max_attempts=2))
    with pytest.raises(ApiError) as caught:
        start(client)
    error = caught.value
    assert error.status_code in (400, 500, 503)
    assert isinstance(error, MaybeLandedError) == (error.status_code >= 500)
    shown = everything_shown(error)
    assert "***" in str(error)  # the echo was there, and scrubbed
    assert_no_secret(shown, TOKEN, *SECRETS)
    assert ACCESS_KEY[:8] not in shown  # not even the part before a cut
