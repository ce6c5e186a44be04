"""Retries under the shared rules, through the sandbox's seeded faults.

Reads and deletes are retried on 5xx and 429; a POST or PUT whose answer is
lost is never resent (``MaybeLandedError``); a login that fails is plainly a
failure, since logging in twice does no harm.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable

import pytest

from reconciler.errors import ApiError, ApiUnreachableError, MaybeLandedError, NotFoundError
from reconciler.http.retry import RetryPolicy
from reconciler.providers.datatools import snapshots, templates
from reconciler.providers.datatools.client import DatatoolsClient
from reconciler.providers.datatools.sandbox.seed import DATASOURCES
from reconciler.providers.datatools.settings import DatatoolsSettings
from reconciler.providers.datatools.templates import TemplateSpec
from tests.providers.datatools.conftest import SiteFactory
from tests.providers.datatools.support import NO_WAIT, Recording, Site, run

LIST = "/tools/api/v1/export-templates/"
SALES = snapshots.snapshot_request(DATASOURCES["sales"], "csv", {})


def spec(name: str = "Weekly") -> TemplateSpec:
    entry = {"key": "weekly", "name": name, "template_type": "user"}
    return templates.template_spec({**entry, "configuration": {"format": "csv"}})


def body(name: str = "Weekly") -> dict[str, object]:
    return templates.create_body(spec(name), templates.template_marker(spec(name), "s1"))


def seed_where(wanted: Callable[[list[float]], bool]) -> int:
    """A fault seed whose first draws suit a test (each request draws error, then throttle)."""
    for seed in range(1000):
        draws = random.Random(seed)
        if wanted([draws.random() for _ in range(6)]):
            return seed
    raise AssertionError("no such seed")


def test_reads_are_retried_through_503s(site: Site) -> None:
    recording = Recording()

    async def use() -> None:
        async with site.client(transport=recording) as client:
            await client.log_in()
            site.set_faults(error_rate=0.5, seed=3)
            for _ in range(10):
                assert await client.list_own_templates() == []

    run(use())
    statuses = [status for method, path, status in recording.seen() if path == LIST]
    assert statuses.count(200) == 10
    assert statuses.count(503) >= 3  # the faults happened, and each was retried


def test_throttled_writes_are_retried_once_they_are_let_through(site: Site) -> None:
    recording = Recording()

    async def use() -> list[str]:
        async with site.client(transport=recording) as client:
            await client.log_in()
            first_throttled = seed_where(lambda draws: draws[1] < 0.5)
            site.set_faults(throttle_rate=0.5, retry_after_s=0, seed=first_throttled)
            await client.create_template(body())
            site.set_faults(throttle_rate=0)
            return [t.name for t in await client.list_own_templates()]

    assert run(use()) == ["Weekly"]
    posts = [status for method, path, status in recording.seen() if method == "POST"][1:]
    assert 429 in posts and posts[-1] == 201


@pytest.mark.parametrize("mode", ["503", "drop"])
def test_a_create_whose_answer_is_lost_may_have_landed(site: Site, mode: str) -> None:
    async def use() -> tuple[list[str], int]:
        async with site.client() as client:
            await client.log_in()
            site.set_faults(commit_then_fail_every=1, commit_then_fail_mode=mode)
            with pytest.raises(MaybeLandedError):
                await client.create_template(body())
            with pytest.raises(MaybeLandedError):
                await client.create_job(SALES)
            site.set_faults(commit_then_fail_every=0)
            names = [t.name for t in await client.list_own_templates()]
            return names, len((await client.list_jobs()).jobs)

    assert run(use()) == (["Weekly"], 1)  # each landed once: nothing was resent


def test_an_update_whose_answer_is_lost_is_not_resent(site: Site) -> None:
    recording = Recording()

    async def use() -> None:
        async with site.client(transport=recording) as client:
            live = await client.create_template(body())
            site.set_faults(commit_then_fail_every=1)
            with pytest.raises(MaybeLandedError):
                await client.update_template(live.id, {"description": "new"})

    run(use())
    assert [m for m, _, _ in recording.seen()].count("PUT") == 1


def test_a_delete_retried_after_it_landed_reports_the_template_gone(site: Site) -> None:
    recording = Recording()

    async def use() -> None:
        async with site.client(transport=recording) as client:
            live = await client.create_template(body())
            site.set_faults(commit_then_fail_every=1)
            with pytest.raises(NotFoundError, match=f"export template {live.id} does not exist"):
                await client.delete_template(live.id)

    run(use())
    deletes = [status for method, _, status in recording.seen() if method == "DELETE"]
    assert deletes == [503, 400]  # landed, then the retry found nothing to delete


def test_a_lost_login_answer_is_sent_again(site_factory: SiteFactory) -> None:
    second_fails = seed_where(lambda draws: draws[0] >= 0.5 > draws[2] and draws[4] >= 0.5)
    site = site_factory(error_rate=0.5, seed=second_fails)
    recording = Recording()

    async def use() -> None:
        async with site.client(transport=recording) as client:
            await client.log_in()
            assert await client.list_own_templates() == []

    run(use())
    posts = [status for method, _, status in recording.seen() if method == "POST"]
    assert posts == [503, 302]  # a second session is harmless: the login is sent again


def test_a_login_that_keeps_failing_is_an_error_not_a_maybe_landed(
    site_factory: SiteFactory,
) -> None:
    posts_fail = seed_where(lambda draws: draws[0] >= 0.5 > max(draws[2], draws[4]))
    site = site_factory(error_rate=0.5, seed=posts_fail)
    twice = RetryPolicy(max_attempts=2, base_delay=0, max_delay=0, jitter=False)

    async def use() -> None:
        async with site.client(retry=twice) as client:
            await client.log_in()

    with pytest.raises(ApiError) as caught:
        run(use())
    assert not isinstance(caught.value, MaybeLandedError)
    assert caught.value.message == (
        f"Could not log in as 'sandbox' at {site.root_url}: the site answered 503. Try again later."
    )


def test_an_unreachable_site_is_said_once_plainly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = DatatoolsSettings(f"http://127.0.0.1:{port}", "tools/", "sandbox", "sandbox")

    async def use() -> None:
        async with DatatoolsClient(settings, retry=NO_WAIT) as client:
            await client.list_own_templates()

    with pytest.raises(ApiUnreachableError) as caught:
        run(use())
    assert caught.value.message.startswith(
        f"Cannot reach the data-tools site at http://127.0.0.1:{port} to open the site's login page"
    )
