"""The client's failures against the sandbox: auth, throttling, 5xx, lost answers, endpoints."""

from __future__ import annotations

import base64
import logging

import pytest

from reconciler.errors import ApiError, AuthError, MaybeLandedError, NotFoundError
from reconciler.providers.mailgun.client import Listing, MailgunClient
from tests.providers.mailgun.conftest import MailgunFactory
from tests.providers.mailgun.support import HOUR, RunningMailgun, Sleeps, instant, run
from tests.providers.mammoth.client.support import assert_leaks_nothing

SECRET_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


def test_a_wrong_key_is_a_401_that_names_the_setting_never_the_key(
    mailgun_factory: MailgunFactory, caplog: pytest.LogCaptureFixture
) -> None:
    mailgun = mailgun_factory(api_key="the-right-key")
    caplog.set_level(logging.DEBUG)
    client = mailgun.client(SECRET_KEY)

    async def listing() -> Listing:
        async with client:
            return await client.list_exports()

    with pytest.raises(AuthError) as caught:
        run(listing())
    error = caught.value
    assert error.status_code == 401
    assert "Mailgun rejected the API key (401)" in str(error)
    assert "MAILGUN_API_KEY" in str(error) and "MAILGUN_REGION" in str(error)
    token = base64.b64encode(f"api:{SECRET_KEY}".encode()).decode()
    assert_leaks_nothing(error, SECRET_KEY, token)
    assert SECRET_KEY not in repr(client) and token not in repr(client)
    assert SECRET_KEY not in caplog.text and token not in caplog.text


def test_the_right_key_is_accepted(mailgun_factory: MailgunFactory) -> None:
    mailgun = mailgun_factory(api_key="the-right-key")

    async def listing() -> Listing:
        async with mailgun.client("the-right-key") as client:
            return await client.list_exports()

    assert run(listing()).exports == ()


def test_a_429_waits_until_the_reset_on_the_servers_clock(
    mailgun_factory: MailgunFactory,
) -> None:
    mailgun = mailgun_factory(throttle_rate=1.0, retry_after_s=3)
    mailgun.clock.advance(25 * HOUR)  # our clock and the server's now differ by a day
    sleeps = Sleeps(hook=lambda: mailgun.set_faults(throttle_rate=0.0))

    async def listing() -> Listing:
        async with mailgun.client(retry=instant(sleeps)) as client:
            return await client.list_exports()

    assert run(listing()).exports == ()
    assert len(sleeps.delays) == 1
    # Date has whole seconds, so the wait may be up to a second long, never short.
    assert 3.0 <= sleeps.delays[0] <= 4.1


def test_a_429_on_create_is_retried_too_since_it_was_refused_unsent(
    mailgun_factory: MailgunFactory,
) -> None:
    mailgun = mailgun_factory(throttle_rate=1.0, retry_after_s=0.5)
    sleeps = Sleeps(hook=lambda: mailgun.set_faults(throttle_rate=0.0))

    async def create() -> Listing:
        async with mailgun.client(retry=instant(sleeps)) as client:
            await client.create_export("domains")
            return await client.list_exports()

    assert len(run(create()).exports) == 1
    assert len(sleeps.delays) == 1


def test_reads_are_retried_through_5xx(mailgun_factory: MailgunFactory) -> None:
    mailgun = mailgun_factory(error_rate=1.0)
    sleeps = Sleeps(hook=lambda: mailgun.set_faults(error_rate=0.0))

    async def listing() -> Listing:
        async with mailgun.client(retry=instant(sleeps)) as client:
            return await client.list_exports()

    assert run(listing()).exports == ()
    assert sleeps.delays == [1.0]


def test_persistent_5xx_on_reads_gives_up_saying_so(mailgun_factory: MailgunFactory) -> None:
    mailgun = mailgun_factory(error_rate=1.0)

    async def listing() -> Listing:
        async with mailgun.client(retry=instant(Sleeps(), attempts=3)) as client:
            return await client.list_exports()

    with pytest.raises(ApiError, match=r"answered 503 \(sandbox fault.*after 3 attempts"):
        run(listing())


@pytest.mark.parametrize("mode", ["503", "drop"])
def test_a_create_whose_answer_is_lost_is_never_resent(
    mailgun_factory: MailgunFactory, mode: str
) -> None:
    mailgun = mailgun_factory(commit_then_fail_every=1, commit_then_fail_mode=mode)
    sleeps = Sleeps()

    async def create() -> Listing:
        async with mailgun.client(retry=instant(sleeps)) as client:
            with pytest.raises(MaybeLandedError, match="may have landed; run plan"):
                await client.create_export("domains", key="domains")
            return await client.list_exports("domains")

    assert len(run(create()).exports) == 1  # it landed, exactly once
    assert sleeps.delays == []


def test_a_wrong_base_url_says_the_exports_api_is_not_there(mailgun: RunningMailgun) -> None:
    async def listing() -> Listing:
        async with MailgunClient(mailgun.root_url + "/nowhere", "sandbox") as client:
            return await client.list_exports()

    with pytest.raises(NotFoundError, match=r"no exports API at .*/nowhere/v3/exports \(404\)"):
        run(listing())
