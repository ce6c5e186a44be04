"""The client against a server that behaves like mailgun-go's own mock.

The mock (``mocks/mock_exports.go``, as the reference FACTS record it) is the
other shape of the API a client may meet: creates answer only
``{"message": "success"}``, the list is ``{"items": null}`` before the first
export and ignores the ``url`` filter, URLs are stored as sent, ids are
``"0"``, ``"1"``..., bodies are ``text/plain`` and ``download_url`` is a
relative 302 for any id. The sandbox follows the docs instead, so this small
server keeps the client honest about the rest. ``create_status`` makes it
refuse creates, as a server that has withdrawn the endpoint might.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.errors import ApiError, NotFoundError
from reconciler.providers.mailgun.client import Created, Listing, MailgunClient
from reconciler.providers.mailgun.wire import Export
from reconciler.sandbox.server import serve_app_in_thread

T = TypeVar("T")
HOUR = 3600


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class GoMock:
    def __init__(self) -> None:
        self.exports: list[dict[str, str]] = []
        self.create_status = 200

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v3/exports", self.collection, methods=["GET", "POST"]),
                Route("/v3/exports/{id}", self.item, methods=["GET"]),
                Route("/v3/exports/{id}/download_url", self.link, methods=["GET"]),
            ]
        )

    async def collection(self, request: Request) -> Response:
        if request.method == "GET":
            return _text_json({"items": self.exports or None})
        if self.create_status == 405:
            return Response(status_code=405, headers={"Allow": "GET"})
        if self.create_status != 200:
            return _text_json({"message": "bad request"}, self.create_status)
        url = parse_qs((await request.body()).decode())["url"][0]
        self.exports.append({"id": str(len(self.exports)), "url": url, "status": "complete"})
        return _text_json({"message": "success"})

    async def item(self, request: Request) -> Response:
        for export in self.exports:
            if export["id"] == request.path_params["id"]:
                return _text_json(export)
        return _text_json({"message": "export not found"}, 404)

    async def link(self, request: Request) -> Response:
        return Response(status_code=302, headers={"Location": "/some/s3/url"})


def _text_json(body: Any, status_code: int = 200) -> Response:
    """Go's ``toJSON``: compact JSON, a trailing newline, sniffed as text/plain."""
    text = json.dumps(body, separators=(",", ":")) + "\n"
    return Response(text, status_code=status_code, media_type="text/plain; charset=utf-8")


@pytest.fixture
def mock() -> GoMock:
    return GoMock()


@pytest.fixture
def root(mock: GoMock) -> Iterator[str]:
    with serve_app_in_thread(mock.app(), date_header=False) as url:
        yield url


def test_an_empty_null_list_and_an_answer_without_the_export(root: str) -> None:
    async def talk() -> tuple[Listing, Created, Listing]:
        async with MailgunClient(root, "any") as client:
            empty = await client.list_exports()
            created = await client.create_export("/domains")
            return empty, created, await client.list_exports("domains")

    empty, created, listing = run(talk())
    assert empty.exports == ()
    assert created == Created(None)  # find it by listing its URL
    assert listing.exports == (Export("0", "complete", "/v3/domains"),)


def test_the_url_filter_is_applied_even_when_the_server_ignores_it(root: str, mock: GoMock) -> None:
    mock.exports = [
        {"id": "0", "url": "/domains", "status": "complete"},
        {"id": "1", "url": "/v3/example.com/bounces", "status": "complete"},
    ]

    async def listing() -> Listing:
        async with MailgunClient(root, "any") as client:
            return await client.list_exports("/v3/example.com/bounces")

    assert [e.id for e in run(listing()).exports] == ["1"]


def test_without_a_date_header_and_a_time_in_the_id_an_export_is_aged_24h(
    root: str, mock: GoMock
) -> None:
    mock.exports = [{"id": "0", "url": "/domains", "status": "complete"}]

    async def listing() -> Listing:
        async with MailgunClient(root, "any") as client:
            return await client.list_exports()

    found = run(listing())
    assert not found.server_clock
    assert [r.age_s for r in found.runs()] == [24 * HOUR]


def test_a_relative_download_redirect_is_resolved_against_the_api(root: str) -> None:
    async def link() -> str:
        async with MailgunClient(root, "any") as client:
            return await client.download_url("12")

    assert run(link()) == f"{root}/some/s3/url"


def test_an_unknown_id_is_not_found(root: str) -> None:
    async def get() -> Export:
        async with MailgunClient(root, "any") as client:
            return await client.get_export("12")

    with pytest.raises(NotFoundError, match="Export 12 not found"):
        run(get())


def test_a_400_with_no_export_in_progress_is_raised(root: str, mock: GoMock) -> None:
    mock.create_status = 400

    async def create() -> Created:
        async with MailgunClient(root, "any") as client:
            return await client.create_export("domains", key="domains")

    expected = r"export of 'domains' \(snapshot key 'domains'\): the API answered 400: bad request"
    with pytest.raises(ApiError, match=expected) as caught:
        run(create())
    assert caught.value.status_code == 400


def test_a_withdrawn_create_endpoint_says_so(root: str, mock: GoMock) -> None:
    mock.create_status = 405

    async def create() -> Created:
        async with MailgunClient(root, "any") as client:
            return await client.create_export("domains")

    with pytest.raises(ApiError, match=r"does not take POST /v3/exports \(405\).*withdrawn"):
        run(create())


def test_a_download_from_the_mock_is_a_clear_404(root: str, tmp_path: Path) -> None:
    async def fetch() -> int:
        async with MailgunClient(root, "any") as client:
            return await client.download("12", tmp_path / "x.csv")

    with pytest.raises(ApiError, match=r"download export 12 to .*answered 404"):
        run(fetch())
