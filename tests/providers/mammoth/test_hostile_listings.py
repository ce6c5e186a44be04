"""Mammoth listings from a hostile server: a clean message naming it, never an internal error."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.errors import ApiError
from reconciler.providers.mammoth.client import MAX_PAGES, MammothClient
from tests.apply.helpers import REF
from tests.http.hostile import BAD_RECORDS, serve_hostile


def _list(base_url: str) -> object:
    async def run() -> object:
        async with MammothClient(base_url, "key", "secret") as client:
            return await client.list_exports(REF)

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        ("id-as-text", "its id is '17', not a whole number"),
        ("id-missing", "its id is missing, not a whole number"),
        ("id-1e400", "its id is inf, not a whole number"),
        ("target-not-an-object", "its target_properties is 'file.csv', of the wrong type"),
    ],
)
def test_a_malformed_export_is_named_in_a_clean_error(mode: str, problem: str) -> None:
    assert mode in BAD_RECORDS
    with serve_hostile(mode) as base_url, pytest.raises(ApiError) as caught:
        _list(base_url)
    assert caught.value.message == (
        f"Could not list the exports of dataview {REF}: unexpected answer (200): export 1 of "
        f"the page at offset 0: {problem}. Is --endpoint or MAMMOTH_BASE_URL the Mammoth API?"
    )


def test_a_server_that_always_offers_another_page_is_stopped() -> None:
    with serve_hostile("endless-pages") as base_url, pytest.raises(ApiError) as caught:
        _list(base_url)
    assert f"still offered another page after {MAX_PAGES} pages" in caught.value.message
    assert base_url.removeprefix("http://") in caught.value.message
