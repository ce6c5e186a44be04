"""Listing every export across pages, against the sandbox over loopback."""

from urllib.parse import quote

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.providers.mammoth.client import LIST_FIELDS, MammothClient
from reconciler.providers.mammoth.sandbox.seed import add_exports
from tests.providers.mammoth.client.support import REF, RecordingTransport, run, s3_body
from tests.sandboxes import RunningSandbox


def test_lists_all_250_exports_in_three_pages(sandbox: RunningSandbox) -> None:
    ids = add_exports(sandbox.store, REF, [s3_body(f"f{n}.csv") for n in range(250)])
    transport = RecordingTransport()

    async def listing() -> list[dict[str, object]]:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox", transport=transport) as c:
            return await c.list_exports(REF)

    records = run(listing())
    assert [r["id"] for r in records] == ids
    assert set(records[0]) == set(LIST_FIELDS.split(","))  # no run results or times
    fields = quote(LIST_FIELDS, safe="")
    offsets = [q for _, _, q in transport.requests]
    assert offsets == [
        f"limit=100&offset={n}&fields={fields}&sort=%28id%3Aasc%29" for n in (0, 100, 200)
    ]


def test_an_empty_dataview_takes_one_request(sandbox: RunningSandbox) -> None:
    sandbox.store.ensure_dataviews([REF])
    transport = RecordingTransport()

    async def listing() -> list[dict[str, object]]:
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox", transport=transport) as c:
            return await c.list_exports(REF)

    assert run(listing()) == []
    assert len(transport.requests) == 1


class OffsetIgnoringProxy(RecordingTransport):
    """Forwards to the real sandbox but drops ``offset``: a server that pages in a loop."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url.copy_remove_param("offset")
        return await super().handle_async_request(
            httpx.Request(request.method, url, headers=request.headers)
        )


def test_a_server_that_ignores_offset_does_not_loop_forever(sandbox: RunningSandbox) -> None:
    add_exports(sandbox.store, REF, [s3_body(f"f{n}.csv") for n in range(150)])

    async def listing() -> list[dict[str, object]]:
        proxy = OffsetIgnoringProxy()
        async with MammothClient(sandbox.base_url, "sandbox", "sandbox", transport=proxy) as c:
            return await c.list_exports(REF)

    with pytest.raises(ApiError) as caught:
        run(listing())
    assert caught.value.message == (
        "Could not list the exports of dataview 1/1/1/1: the API returned the same exports "
        "again at offset 100, so paging stopped. Check --endpoint."
    )
