"""open_client's configuration errors: exact texts, and no credential in any of them."""

import pytest

from reconciler.errors import ConfigError
from reconciler.providers.mammoth.client import MammothClient
from reconciler.providers.mammoth.connect import DEFAULT_BASE_URL, base_url_from, open_client

SECRET = "s3cr3t-value-never-shown"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {},
            "MAMMOTH_API_KEY and MAMMOTH_API_SECRET are not set. Export the Mammoth API key "
            "and secret in those environment variables (credentials are never taken from "
            "flags), or use --sandbox to run against the embedded sandbox.",
        ),
        (
            {"MAMMOTH_API_KEY": "key"},
            "MAMMOTH_API_SECRET is not set. Export the Mammoth API key and secret in those "
            "environment variables (credentials are never taken from flags), or use "
            "--sandbox to run against the embedded sandbox.",
        ),
        (
            {"MAMMOTH_API_KEY": "", "MAMMOTH_API_SECRET": SECRET},
            "MAMMOTH_API_KEY is not set. Export the Mammoth API key and secret in those "
            "environment variables (credentials are never taken from flags), or use "
            "--sandbox to run against the embedded sandbox.",
        ),
    ],
)
def test_missing_credentials_name_the_variables(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_client(endpoint=None, sandbox_db=None, parallelism=4, environ=env)
    assert caught.value.message == message
    assert SECRET not in repr(caught.value)


def test_missing_credentials_read_from_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MAMMOTH_API_KEY", raising=False)
    monkeypatch.setenv("MAMMOTH_API_SECRET", SECRET)
    with pytest.raises(ConfigError, match=r"^MAMMOTH_API_KEY is not set\."):
        open_client(endpoint=None, sandbox_db=None, parallelism=4)


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        (
            "app.mammoth.io/api/v2",
            "The endpoint 'app.mammoth.io/api/v2' (from --endpoint or MAMMOTH_BASE_URL) "
            "must start with http:// or https://. Expected a URL like "
            "https://app.mammoth.io/api/v2.",
        ),
        (
            "ftp://files.example.com",
            "The endpoint 'ftp://files.example.com' (from --endpoint or MAMMOTH_BASE_URL) "
            "must start with http:// or https://. Expected a URL like "
            "https://app.mammoth.io/api/v2.",
        ),
        (
            "https://",
            "The endpoint 'https://' (from --endpoint or MAMMOTH_BASE_URL) has no host. "
            "Expected a URL like https://app.mammoth.io/api/v2.",
        ),
        (
            "http://[::1",
            "The endpoint 'http://[::1' (from --endpoint or MAMMOTH_BASE_URL) is not a valid "
            "URL. Expected a URL like https://app.mammoth.io/api/v2.",
        ),
        (
            f"https://me:{SECRET}@app.mammoth.io/api/v2",
            "The endpoint 'https://***@app.mammoth.io/api/v2' (from --endpoint or "
            "MAMMOTH_BASE_URL) must not carry credentials: set MAMMOTH_API_KEY and "
            "MAMMOTH_API_SECRET instead. Expected a URL like https://app.mammoth.io/api/v2.",
        ),
        (
            f"https://app.mammoth.io/api/v2?token={SECRET}",
            "The endpoint 'https://app.mammoth.io/api/v2' (from --endpoint or "
            "MAMMOTH_BASE_URL) must not have a query string or fragment. Expected a URL "
            "like https://app.mammoth.io/api/v2.",
        ),
    ],
)
def test_malformed_endpoint_is_a_config_error(endpoint: str, message: str) -> None:
    env = {"MAMMOTH_API_KEY": "key", "MAMMOTH_API_SECRET": SECRET}
    with pytest.raises(ConfigError) as caught:
        open_client(endpoint=endpoint, sandbox_db=None, parallelism=4, environ=env)
    assert caught.value.message == message
    assert SECRET not in caught.value.message


@pytest.mark.parametrize(
    ("endpoint", "env", "url"),
    [
        (None, {}, DEFAULT_BASE_URL),
        (
            None,
            {"MAMMOTH_BASE_URL": "http://127.0.0.1:8000/api/v2/"},
            "http://127.0.0.1:8000/api/v2",
        ),
        (
            "https://eu.mammoth.io/api/v2",
            {"MAMMOTH_BASE_URL": "http://x"},
            "https://eu.mammoth.io/api/v2",
        ),
    ],
)
def test_base_url_precedence(endpoint: str | None, env: dict[str, str], url: str) -> None:
    assert base_url_from(endpoint, env) == url


def test_real_api_client_shows_endpoint_but_not_credentials() -> None:
    env = {"MAMMOTH_API_KEY": "key-id", "MAMMOTH_API_SECRET": SECRET}
    client = open_client(
        endpoint="https://eu.mammoth.io/api/v2", sandbox_db=None, parallelism=3, environ=env
    )
    assert isinstance(client, MammothClient)
    assert repr(client) == "MammothClient('https://eu.mammoth.io/api/v2', parallelism=3)"
    assert client.parallelism == 3
