"""The Mailgun client against the sandbox: an export's life, listing, download."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ApiError, NotFoundError
from reconciler.http.download import download
from reconciler.providers.mailgun.client import Created, Listing, MailgunClient
from reconciler.providers.mailgun.sandbox.lists import DEFAULT_LISTS, render_csv
from reconciler.providers.mailgun.sandbox.signing import LINK_LIFETIME_S
from reconciler.providers.mailgun.wire import Export
from tests.providers.mailgun.support import HOUR, RunningMailgun, run

DOMAINS_CSV = render_csv(DEFAULT_LISTS["domains"])


async def _create(client: MailgunClient, url: str = "/v3/domains") -> Export:
    created = await client.create_export(url)
    assert created.export is not None and not created.already_running
    return created.export


def test_an_export_is_requested_then_processing_then_complete(mailgun: RunningMailgun) -> None:
    async def life() -> list[str]:
        async with mailgun.client() as client:
            export = await _create(client)
            statuses = [export.status, (await client.get_export(export.id)).status]
            mailgun.clock.advance(61)  # exports take 60 s in these tests
            statuses.append((await client.get_export(export.id)).status)
            return statuses

    assert run(life()) == ["requested", "processing", "complete"]


def test_the_created_export_is_stored_under_its_normalized_url(mailgun: RunningMailgun) -> None:
    async def create() -> tuple[Export, Listing]:
        async with mailgun.client() as client:
            return await _create(client, "v3/domains/"), await client.list_exports()

    export, listing = run(create())
    assert export.url == "domains"  # as the docs' samples store it
    assert listing.exports == (Export(export.id, "processing", "domains"),)


def test_list_filters_by_url_whatever_its_spelling(mailgun: RunningMailgun) -> None:
    bounces = "/v3/sandbox.example.com/bounces"

    async def listings() -> tuple[Listing, Listing, Listing]:
        async with mailgun.client() as client:
            await _create(client, "/v3/domains")
            await _create(client, bounces)
            return (
                await client.list_exports(),
                await client.list_exports("domains/"),
                await client.list_exports(bounces),
            )

    everything, domains, only_bounces = run(listings())
    assert [e.url for e in everything.exports] == ["domains", "sandbox.example.com/bounces"]
    assert [e.url for e in domains.exports] == ["domains"]
    assert [e.url for e in only_bounces.exports] == ["sandbox.example.com/bounces"]


def test_a_second_request_while_one_processes_is_refused_and_found(
    mailgun: RunningMailgun,
) -> None:
    async def twice() -> tuple[Export, Created, Listing]:
        async with mailgun.client() as client:
            first = await _create(client)
            again = await client.create_export("domains")
            return first, again, await client.list_exports()

    first, again, listing = run(twice())
    assert again == Created(Export(first.id, "processing", "domains"), already_running=True)
    assert len(listing.exports) == 1  # the 400 created nothing


def test_the_400_while_processing_is_what_the_server_says(mailgun: RunningMailgun) -> None:
    with mailgun.http() as http:
        assert http.post("/v3/exports", data={"url": "/v3/domains"}).status_code == 200
        refused = http.post("/v3/exports", data={"url": "domains"})
    assert refused.status_code == 400
    assert "already being processed" in refused.json()["message"]


def test_once_complete_a_new_export_of_the_url_may_be_requested(mailgun: RunningMailgun) -> None:
    async def two() -> Listing:
        async with mailgun.client() as client:
            await _create(client)
            mailgun.clock.advance(61)
            await _create(client)
            return await client.list_exports("domains")

    listing = run(two())
    assert [e.status for e in listing.exports] == ["complete", "processing"]  # oldest first


def test_exports_expire_after_24_hours_on_the_servers_clock(mailgun: RunningMailgun) -> None:
    async def expire() -> tuple[Listing, Listing]:
        async with mailgun.client() as client:
            export = await _create(client)
            before = await client.list_exports()
            mailgun.clock.advance(25 * HOUR)
            after = await client.list_exports()
            with pytest.raises(NotFoundError, match="keeps exports for 24 hours") as gone:
                await client.get_export(export.id)
            assert gone.value.status_code == 404
            with pytest.raises(NotFoundError):
                await client.download_url(export.id)
            return before, after

    before, after = run(expire())
    assert len(before.exports) == 1
    assert after.exports == ()


def test_ages_are_measured_on_the_servers_clock(mailgun: RunningMailgun) -> None:
    async def ages() -> tuple[Listing, Listing]:
        async with mailgun.client() as client:
            await _create(client)
            mailgun.clock.advance(2 * HOUR)
            young = await client.list_exports("domains")
            mailgun.clock.advance(5 * HOUR)
            return young, await client.list_exports("domains")

    young, old = run(ages())
    assert young.server_clock and old.server_clock
    assert young.runs()[0].age_s == pytest.approx(2 * HOUR, abs=2)
    assert old.runs()[0].age_s == pytest.approx(7 * HOUR, abs=2)


def test_the_date_header_follows_the_sandbox_clock(mailgun: RunningMailgun) -> None:
    async def listing() -> Listing:
        async with mailgun.client() as client:
            return await client.list_exports()

    mailgun.clock.advance(3 * 24 * HOUR)
    server_time = run(listing()).server_time
    assert server_time.timestamp() == pytest.approx(mailgun.clock.now(), abs=2)


def test_download_writes_the_exports_csv(mailgun: RunningMailgun, tmp_path: Path) -> None:
    target = tmp_path / "exports" / "domains.csv"

    async def fetch() -> int:
        async with mailgun.client() as client:
            export = await _create(client)
            mailgun.clock.advance(61)
            return await client.download(export.id, target, key="domains")

    assert run(fetch()) == len(DOMAINS_CSV)
    assert target.read_bytes() == DOMAINS_CSV
    assert DOMAINS_CSV.startswith(b"name,state,type,created_at\r\nsandbox.example.com,")
    assert sorted(p.name for p in target.parent.iterdir()) == ["domains.csv"]


def test_an_export_is_a_snapshot_of_the_data_when_requested(
    mailgun: RunningMailgun, tmp_path: Path
) -> None:
    added = {"name": "late.example.com", "state": "active", "type": "custom"}

    async def two_exports() -> tuple[bytes, bytes]:
        async with mailgun.client() as client:
            first = await _create(client)
            with mailgun.http() as http:
                http.post("/_sandbox/mailgun/lists", json={"url": "domains", "rows": [added]})
            mailgun.clock.advance(61)
            second = await _create(client)
            mailgun.clock.advance(61)
            await client.download(first.id, tmp_path / "first.csv")
            await client.download(second.id, tmp_path / "second.csv")
            return (tmp_path / "first.csv").read_bytes(), (tmp_path / "second.csv").read_bytes()

    first, second = run(two_exports())
    assert b"late.example.com" not in first
    assert second.endswith(b"late.example.com,active,custom,\r\n")


def test_an_unfinished_export_has_no_download(mailgun: RunningMailgun, tmp_path: Path) -> None:
    target = tmp_path / "domains.csv"
    target.write_bytes(b"yesterday")

    async def too_soon() -> None:
        async with mailgun.client() as client:
            export = await _create(client)
            await client.download(export.id, target)

    with pytest.raises(ApiError, match=r"answered 400: Export \w+ is not complete yet"):
        run(too_soon())
    assert target.read_bytes() == b"yesterday"


def test_an_expired_link_fails_without_touching_the_file(
    mailgun: RunningMailgun, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "domains.csv"
    target.parent.mkdir()
    target.write_bytes(b"yesterday")

    async def late() -> None:
        async with mailgun.client() as client:
            export = await _create(client)
            mailgun.clock.advance(61)
            link = await client.download_url(export.id)
            mailgun.clock.advance(LINK_LIFETIME_S + 1)
            await download(link, target, what="download the export")

    with pytest.raises(ApiError, match="answered 403 \\(AccessDenied: Request has expired\\)"):
        run(late())
    assert target.read_bytes() == b"yesterday"
    assert sorted(p.name for p in target.parent.iterdir()) == ["domains.csv"]
