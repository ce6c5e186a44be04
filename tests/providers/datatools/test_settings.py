"""DATATOOLS_* settings: what connect refuses, in words that never show the password."""

from __future__ import annotations

import pytest

from reconciler.errors import ConfigError
from reconciler.providers.datatools.client import connect
from reconciler.providers.datatools.settings import settings_from_env

PASSWORD = "pa55-never-shown"
GOOD = {
    "DATATOOLS_BASE_URL": "https://hydroml.example.com/",
    "DATATOOLS_USERNAME": "ana",
    "DATATOOLS_PASSWORD": PASSWORD,
}


def test_the_settings_come_from_the_environment() -> None:
    settings = settings_from_env(GOOD)
    assert (settings.base_url, settings.prefix, settings.username, settings.password) == (
        "https://hydroml.example.com",
        "tools/",
        "ana",
        PASSWORD,
    )
    assert settings.api_path == "tools/api/v1/"
    assert PASSWORD not in repr(settings)


def test_the_prefix_and_the_endpoint_can_be_chosen() -> None:
    env = {**GOOD, "DATATOOLS_PREFIX": "data-tools"}
    settings = settings_from_env(env, endpoint="http://localhost:8000/site")
    assert (settings.base_url, settings.api_path) == (
        "http://localhost:8000/site",
        "data-tools/api/v1/",
    )


@pytest.mark.parametrize(
    ("missing", "names"),
    [
        (("DATATOOLS_PASSWORD",), "DATATOOLS_PASSWORD is"),
        (
            ("DATATOOLS_USERNAME", "DATATOOLS_PASSWORD"),
            "DATATOOLS_USERNAME and DATATOOLS_PASSWORD are",
        ),
        (
            ("DATATOOLS_BASE_URL", "DATATOOLS_USERNAME", "DATATOOLS_PASSWORD"),
            "DATATOOLS_BASE_URL, DATATOOLS_USERNAME, DATATOOLS_PASSWORD are",
        ),
    ],
)
def test_missing_settings_are_named(missing: tuple[str, ...], names: str) -> None:
    env = {k: v for k, v in GOOD.items() if k not in missing}
    with pytest.raises(ConfigError) as caught:
        connect(env)
    assert caught.value.message == (
        f"{names} not set. The data-tools provider logs in as a user of the site: set "
        "DATATOOLS_BASE_URL to the site's root (like https://hydroml.example.com) and "
        "DATATOOLS_USERNAME / DATATOOLS_PASSWORD to that user's login (credentials are "
        "never taken from flags)."
    )
    assert PASSWORD not in repr(caught.value)


def test_an_endpoint_stands_in_for_the_base_url() -> None:
    env = {k: v for k, v in GOOD.items() if k != "DATATOOLS_BASE_URL"}
    assert settings_from_env(env, endpoint="http://127.0.0.1:9").base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("hydroml.example.com", "must start with http:// or https://"),
        ("ftp://hydroml.example.com", "must start with http:// or https://"),
        ("https://", "has no host"),
        (f"https://ana:{PASSWORD}@hydroml.example.com", "must not carry credentials"),
        ("https://hydroml.example.com/?x=1", "must not have a query string or fragment"),
        (
            "https://hydroml.example.com/tools/",
            "https://hydroml.example.com/tools ends in the app's prefix /tools/",
        ),
    ],
)
def test_bad_base_urls_say_what_is_wrong(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_env({**GOOD, "DATATOOLS_BASE_URL": url})
    assert problem in caught.value.message
    assert caught.value.message.endswith(
        "Expected the site's root, like https://hydroml.example.com."
    )
    assert PASSWORD not in caught.value.message


@pytest.mark.parametrize("prefix", ["/", "../admin", "tools?x"])
def test_a_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ConfigError, match="is not a path like /tools/"):
        settings_from_env({**GOOD, "DATATOOLS_PREFIX": prefix})


def test_the_client_shows_its_endpoint_and_user_only() -> None:
    client = connect(GOOD)
    assert repr(client) == "DatatoolsClient('https://hydroml.example.com', username='ana')"
