"""Building a Mailgun client from the environment: the key, the host, the region."""

from __future__ import annotations

import pytest

from reconciler.errors import ConfigError
from reconciler.providers.mailgun.client import (
    REGION_BASE_URLS,
    Listing,
    base_url_from,
    connect,
)
from tests.providers.mailgun.support import RunningMailgun, run

KEY = "key-7f3c9a0b1d2e4f60a1b2c3d4e5f60718"


def test_connect_uses_the_key_and_base_url_from_the_environment(mailgun: RunningMailgun) -> None:
    client = connect({"MAILGUN_API_KEY": "sandbox", "MAILGUN_BASE_URL": mailgun.root_url + "/"})

    async def listing() -> Listing:
        async with client:
            return await client.list_exports()

    assert run(listing()).exports == ()
    assert client.endpoint == mailgun.root_url


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_key_says_what_to_set(value: str | None) -> None:
    env = {} if value is None else {"MAILGUN_API_KEY": value}
    with pytest.raises(ConfigError, match=r"MAILGUN_API_KEY is not set.*private API key"):
        connect(env)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "https://api.mailgun.net"),
        ({"MAILGUN_REGION": "us"}, "https://api.mailgun.net"),
        ({"MAILGUN_REGION": " EU "}, "https://api.eu.mailgun.net"),
        ({"MAILGUN_REGION": ""}, "https://api.mailgun.net"),
        (
            {"MAILGUN_REGION": "eu", "MAILGUN_BASE_URL": "https://mg-proxy.example.com/"},
            "https://mg-proxy.example.com",
        ),
    ],
)
def test_the_host_comes_from_the_base_url_else_the_region(
    env: dict[str, str], expected: str
) -> None:
    assert base_url_from(env) == expected
    assert connect({**env, "MAILGUN_API_KEY": KEY}).endpoint == expected


def test_an_explicit_base_url_wins_over_the_environment() -> None:
    env = {"MAILGUN_BASE_URL": "https://elsewhere.example.com"}
    assert base_url_from(env, "http://127.0.0.1:9") == "http://127.0.0.1:9"


def test_an_unknown_region_says_which_exist() -> None:
    with pytest.raises(ConfigError, match="MAILGUN_REGION is 'de'; set it to us or eu"):
        base_url_from({"MAILGUN_REGION": "de"})


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://api.mailgun.net/v3", "must not include the API version /v3"),
        ("https://api.eu.mailgun.net/v4/", "must not include the API version /v4"),
        ("api.mailgun.net", "must start with http:// or https://"),
        ("ftp://api.mailgun.net", "must start with http:// or https://"),
        ("https://", "has no host"),
        ("https://api.mailgun.net?x=1", "must not have a query string"),
        ("http://[::1", "is not a valid URL"),
    ],
)
def test_a_bad_base_url_says_what_is_wrong_and_what_to_write(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match="MAILGUN_BASE_URL") as caught:
        base_url_from({"MAILGUN_BASE_URL": url})
    assert problem in str(caught.value)
    assert "https://api.mailgun.net or https://api.eu.mailgun.net" in str(caught.value)


def test_a_base_url_with_credentials_is_refused_without_echoing_them() -> None:
    url = f"https://api:{KEY}@api.mailgun.net"
    with pytest.raises(ConfigError, match="must not carry credentials") as caught:
        connect({"MAILGUN_API_KEY": KEY, "MAILGUN_BASE_URL": url})
    assert KEY not in str(caught.value)


def test_the_client_never_shows_its_key() -> None:
    client = connect({"MAILGUN_API_KEY": KEY, "MAILGUN_REGION": "eu"})
    assert repr(client) == f"MailgunClient({REGION_BASE_URLS['eu']!r}, parallelism=8)"
    assert all(KEY not in repr(value) for value in vars(client).values())
