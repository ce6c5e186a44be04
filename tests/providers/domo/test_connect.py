"""Settings from the environment: which variable is wrong, never a value."""

from __future__ import annotations

import pytest

from reconciler.errors import ConfigError
from reconciler.providers.domo.connect import base_url_from, connect
from tests.providers.domo.support import DATASET, DomoSandbox, run

TOKEN = "dev-token-0123456789abcdef"


def test_the_instance_name_gives_its_domo_url() -> None:
    assert base_url_from({"DOMO_INSTANCE": "Acme"}) == "https://acme.domo.com"


def test_the_base_url_wins_over_the_instance() -> None:
    env = {"DOMO_INSTANCE": "acme", "DOMO_BASE_URL": "http://127.0.0.1:8765/"}
    assert base_url_from(env) == "http://127.0.0.1:8765"


def test_neither_setting_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match=r"Neither DOMO_BASE_URL nor DOMO_INSTANCE is set"):
        connect({"DOMO_DEVELOPER_TOKEN": TOKEN})


@pytest.mark.parametrize(
    ("instance", "hint"),
    [("acme.domo.com", "only the first part"), ("https://acme.domo.com", "only the first part")],
)
def test_a_host_given_as_the_instance_is_explained(instance: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=hint):
        base_url_from({"DOMO_INSTANCE": instance})


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://acme.domo.com", "must start with http:// or https://"),
        ("https://acme.domo.com/api/query/v1/export", "must not include the API path"),
        ("https://acme.domo.com?x=1", "query string"),
        ("not a url at all", "must start with http:// or https://"),
    ],
)
def test_a_bad_base_url_is_refused(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        base_url_from({"DOMO_BASE_URL": url})


def test_a_base_url_with_credentials_shows_none_of_them() -> None:
    with pytest.raises(ConfigError) as caught:
        base_url_from({"DOMO_BASE_URL": "https://me:hunter2@acme.domo.com"})
    assert "hunter2" not in str(caught.value)
    assert "DOMO_DEVELOPER_TOKEN" in str(caught.value)


def test_a_missing_token_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="DOMO_DEVELOPER_TOKEN is not set"):
        connect({"DOMO_INSTANCE": "acme", "DOMO_DEVELOPER_TOKEN": "  "})


def test_a_token_a_header_cannot_carry_is_refused_without_showing_it() -> None:
    token = "abc def\u00e9-secret"
    with pytest.raises(ConfigError) as caught:
        connect({"DOMO_INSTANCE": "acme", "DOMO_DEVELOPER_TOKEN": token})
    assert "cannot carry" in str(caught.value)
    assert "secret" not in str(caught.value) and token not in repr(caught.value)


def test_a_connected_client_sends_the_token_in_domos_header(domo: DomoSandbox) -> None:
    """The sandbox accepts only X-DOMO-Developer-Token: a read that works proves it was sent."""
    domo.dataset()

    async def read() -> int:
        env = {"DOMO_BASE_URL": domo.root_url, "DOMO_DEVELOPER_TOKEN": f"  {domo.token}\n"}
        async with connect(env) as client:
            return len((await client.list_exports(DATASET)).records)

    assert run(read()) == 0
