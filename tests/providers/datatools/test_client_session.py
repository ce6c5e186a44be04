"""The client's Django session against the sandbox: login, CSRF, expiry, and no leaks."""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path

import httpx
import pytest
import trustme

from reconciler.errors import AuthError, ConfigError, NotFoundError
from reconciler.providers.datatools import templates
from reconciler.providers.datatools.client import DatatoolsClient
from reconciler.providers.datatools.sandbox.knobs import DatatoolsKnobs
from reconciler.providers.datatools.session import session_ended
from reconciler.providers.datatools.settings import DatatoolsSettings
from tests.providers.datatools.conftest import SiteFactory
from tests.providers.datatools.support import NO_WAIT, Recording, Site, leaked, run

LOGIN = "/accounts/login/"
LIST = "/tools/api/v1/export-templates/"


def a_template(name: str = "Weekly") -> dict[str, object]:
    spec = templates.template_spec(
        {"key": "k", "name": name, "template_type": "user", "configuration": {"format": "csv"}}
    )
    return templates.create_body(spec, templates.template_marker(spec, "s1"))


def test_the_first_request_logs_in_with_the_csrf_token(site: Site) -> None:
    recording = Recording()

    async def use() -> None:
        async with site.client(transport=recording) as client:
            await client.list_own_templates()
            await client.create_template(a_template())  # the sandbox checks CSRF on writes

    run(use())
    assert recording.seen() == [
        ("GET", LOGIN, 200),
        ("POST", LOGIN, 302),
        ("GET", LIST, 200),
        ("POST", LIST, 201),
    ]
    login_form = recording.exchanges[1][0].content.decode()
    assert "csrfmiddlewaretoken=" in login_form
    write = recording.exchanges[3][0]
    rotated = recording.cookie_values("csrftoken")[-1]  # the token set by the login
    assert write.headers["x-csrftoken"] == rotated
    assert write.headers["referer"] == site.root_url + "/"


def test_a_wrong_password_is_an_auth_error_that_never_shows_it(site: Site) -> None:
    secret = "not-the-password-1234"

    async def use() -> None:
        async with site.client(password=secret) as client:
            await client.list_own_templates()

    with pytest.raises(AuthError) as caught:
        run(use())
    assert caught.value.message == (
        f"The data-tools site at {site.root_url} refused the login of user 'sandbox': wrong "
        "username or password (the site answered with its login form again). Check "
        "DATATOOLS_USERNAME and DATATOOLS_PASSWORD."
    )
    assert leaked(caught.value, secret) == []


def test_an_ended_session_is_renewed_once_and_the_request_sent_again(site: Site) -> None:
    recording = Recording()

    async def use() -> list[str]:
        async with site.client(transport=recording) as client:
            await client.list_own_templates()
            site.admin("POST", "sessions/expire")
            read = await client.list_own_templates()
            site.admin("POST", "sessions/expire")
            written = await client.create_template(a_template())
            return [t.name for t in read] + [written.name]

    assert run(use()) == ["Weekly"]
    assert recording.seen()[2:] == [
        ("GET", LIST, 200),
        ("GET", LIST, 302),
        ("GET", LOGIN, 200),
        ("POST", LOGIN, 302),
        ("GET", LIST, 200),
        ("POST", LIST, 302),
        ("GET", LOGIN, 200),
        ("POST", LOGIN, 302),
        ("POST", LIST, 201),
    ]


def test_a_session_that_ends_at_once_again_is_an_auth_error(site_factory: SiteFactory) -> None:
    site = site_factory(knobs=DatatoolsKnobs(session_ttl_s=1e-9))

    async def use() -> None:
        async with site.client() as client:
            await client.list_own_templates()

    with pytest.raises(AuthError, match="ended the session of user 'sandbox' again right after"):
        run(use())


def test_requests_that_meet_an_ended_session_together_log_in_once(site: Site) -> None:
    recording = Recording()

    async def use() -> None:
        async with site.client(transport=recording) as client:
            await client.list_own_templates()
            site.admin("POST", "sessions/expire")
            await asyncio.gather(*(client.list_own_templates() for _ in range(6)))

    run(use())
    assert [m for m, path, _ in recording.seen() if path == LOGIN].count("POST") == 2


def test_https_only_cookies_over_http_ask_for_https(site_factory: SiteFactory) -> None:
    site = site_factory(knobs=DatatoolsKnobs(secure_cookies=True))

    async def use() -> None:
        async with site.client() as client:
            await client.list_own_templates()

    with pytest.raises(ConfigError) as caught:
        run(use())
    assert caught.value.message == (
        f"The data-tools site at {site.root_url} sends its csrftoken cookie for https only, "
        "so it cannot be used over http. Use an https:// address in DATATOOLS_BASE_URL."
    )


def test_over_https_the_secure_cookies_and_the_referer_check_work(
    site_factory: SiteFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    authority = trustme.CA()
    site = site_factory(knobs=DatatoolsKnobs(secure_cookies=True), tls=authority)
    authority.cert_pem.write_to_path(tmp_path / "ca.pem")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def use() -> str:
        async with site.client() as client:
            return (await client.create_template(a_template())).name

    assert site.root_url.startswith("https://")
    assert run(use()) == "Weekly"
    trusting = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    with httpx.Client(base_url=site.root_url, verify=trusting) as http:
        http.get("/accounts/login/")
        form = {"csrfmiddlewaretoken": http.cookies["csrftoken"]}
        refused = http.post("/accounts/login/", data=form)  # a browser would send a Referer
        assert refused.status_code == 403
        assert "Referer checking failed - no Referer." in refused.text


def test_a_wrong_prefix_is_a_404_that_names_the_settings(site: Site) -> None:
    async def use() -> None:
        wrong = DatatoolsSettings(site.root_url, "data-tools/", "sandbox", "sandbox")
        async with DatatoolsClient(wrong, retry=NO_WAIT) as client:
            await client.list_own_templates()

    with pytest.raises(NotFoundError) as caught:
        run(use())
    assert caught.value.message == (
        f"Could not list the export templates: no data-tools API at {site.root_url}/"
        "data-tools/api/v1/export-templates/ (404). Check DATATOOLS_BASE_URL (the site's "
        "root) and DATATOOLS_PREFIX (where the site mounts the app, default /tools/)."
    )


def test_neither_password_nor_session_cookie_reaches_errors_reprs_or_logs(
    site_factory: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "pw-0f8a7c-never-shown"
    site = site_factory(environ={"DATATOOLS_USERNAME": "ana", "DATATOOLS_PASSWORD": secret})
    recording = Recording()
    caplog.set_level(logging.DEBUG)

    async def use() -> NotFoundError:
        async with site.client("ana", secret, transport=recording) as client:
            await client.list_own_templates()
            assert secret not in repr(client)
            try:
                await client.get_template("0b6d2a52-8d2f-4a6e-9f53-0f3b1e6f0c11")
            except NotFoundError as error:
                return error
        raise AssertionError("the template should not exist")

    error = run(use())
    session = recording.cookie_values("sessionid")[0]
    assert len(session) == 32
    assert leaked(error, session, secret) == []
    assert session not in caplog.text
    assert secret not in caplog.text


@pytest.mark.parametrize(
    ("status", "headers", "ended"),
    [
        (302, {"location": "/accounts/login/?next=/tools/api/v1/exports/"}, True),
        (302, {"location": "https://hydroml.example.com/accounts/login/"}, True),
        (302, {"location": "/projects/"}, False),
        (403, {"content-type": "text/html; charset=utf-8"}, True),  # Django's CSRF page
        (403, {"content-type": "application/json"}, False),  # the API's "not your template"
        (200, {"content-type": "application/json"}, False),
    ],
)
def test_which_answers_mean_the_session_has_ended(
    status: int, headers: dict[str, str], ended: bool
) -> None:
    assert session_ended(httpx.Response(status, headers=headers)) is ended
