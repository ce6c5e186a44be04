"""The sandbox as a Django site: login, CSRF, redirects, Django's pages, the clock, admin.

Raw HTTP, the way a browser or curl meets the real site, so these pin the
sandbox to FACTS.md rather than to exportctl's client.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx
import pytest

from reconciler.providers.datatools.sandbox.knobs import DatatoolsKnobs
from tests.providers.datatools.conftest import SiteFactory
from tests.providers.datatools.support import API, SSL_CONTEXT, Browser, Site

TEMPLATES = f"{API}/export-templates/"
JOBS = f"{API}/exports/"
SOME_ID = "0b6d2a52-8d2f-4a6e-9f53-0f3b1e6f0c11"


def test_login_sets_a_session_and_rotates_the_csrf_token(site: Site) -> None:
    with Browser(site) as browser:
        page = browser.get("/accounts/login/")
        before = browser.token
        assert page.status_code == 200
        assert f'name="csrfmiddlewaretoken" value="{before}"' in page.text
        answer = browser.log_in()
        assert (answer.status_code, answer.headers["location"]) == (302, "/projects/")
        assert browser.http.cookies.get("sessionid")
        assert browser.token not in ("", before)
        assert "HttpOnly" in answer.headers.get_list("set-cookie")[0]


def test_a_wrong_password_is_the_login_form_again_with_200(site: Site) -> None:
    with Browser(site) as browser:
        answer = browser.log_in(password="wrong")
        assert answer.status_code == 200
        assert "Please enter a correct username and password" in answer.text
        assert "sessionid" not in browser.http.cookies


def test_the_login_form_without_its_token_is_a_403_page(site: Site) -> None:
    with Browser(site) as browser:
        browser.get("/accounts/login/")
        answer = browser.http.post("/accounts/login/", data={"username": "sandbox"})
        assert answer.status_code == 403
        assert "CSRF verification failed" in answer.text
        assert "CSRF token missing." in answer.text


def test_without_a_session_reads_redirect_to_login_and_writes_fail_csrf_first(
    site: Site,
) -> None:
    with httpx.Client(base_url=site.root_url, verify=SSL_CONTEXT) as http:
        read = http.get(JOBS, params={"page": 2})
        assert (read.status_code, read.headers["location"]) == (
            302,
            "/accounts/login/?next=/tools/api/v1/exports/",
        )
        write = http.post(TEMPLATES, json={})
        assert write.status_code == 403
        assert "CSRF cookie not set." in write.text
    with Browser(site) as browser:
        browser.get("/accounts/login/")  # a CSRF cookie, but no session
        assert browser.write("POST", TEMPLATES, json={}).status_code == 302


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-CSRFToken": "x" * 32}, "CSRF token incorrect."),
        ({"Origin": "https://evil.example"}, "Origin checking failed"),
    ],
)
def test_writes_need_the_token_and_the_sites_own_origin(
    shared_site: Site, headers: dict[str, str], reason: str
) -> None:
    with Browser(shared_site) as browser:
        browser.log_in()
        answer = browser.write("POST", TEMPLATES, json={}, headers=headers)
        assert answer.status_code == 403
        assert reason in answer.text
        own = shared_site.root_url
        assert browser.write("POST", TEMPLATES, json={}, headers={"Origin": own}).status_code == 400


def test_the_session_ends_when_the_clock_passes_its_age(site: Site) -> None:
    with Browser(site) as browser:
        browser.log_in()
        assert browser.get(TEMPLATES).status_code == 200
        site.advance(14 * 24 * 3600 + 1)
        assert browser.get(TEMPLATES).status_code == 302


def test_admin_can_end_every_session(site: Site) -> None:
    with Browser(site) as browser:
        browser.log_in()
        assert site.admin("POST", "sessions/expire").json() == {"ended": 1}
        assert browser.get(TEMPLATES).status_code == 302


def test_secure_cookies_carry_the_secure_attribute(site_factory: SiteFactory) -> None:
    site = site_factory(knobs=DatatoolsKnobs(secure_cookies=True))
    page = httpx.get(site.root_url + "/accounts/login/", verify=SSL_CONTEXT)
    assert "Secure" in page.headers["set-cookie"]


def test_urls_without_the_trailing_slash(site: Site) -> None:
    with Browser(site) as browser:
        browser.log_in()
        read = browser.get(JOBS.rstrip("/"), params={"page": "2"})
        assert (read.status_code, read.headers["location"]) == (301, JOBS + "?page=2")
        write = browser.write("POST", JOBS.rstrip("/"), json={})
        assert write.status_code == 500
        assert "doesn't end in a slash" in write.text


@pytest.mark.parametrize(
    "path",
    [
        f"{JOBS}not-a-uuid/",
        f"{JOBS}{SOME_ID.upper()}/",
        f"{JOBS}{SOME_ID}/cancel/",
        f"{API}/no-such-thing/",
    ],
)
def test_unknown_urls_and_unknown_jobs_of_actions_are_html_404s(
    shared_site: Site, path: str
) -> None:
    with Browser(shared_site) as browser:
        browser.log_in()
        answer = browser.write("POST", path)
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "<title>Not Found</title>" in answer.text


def test_unknown_ids_on_detail_urls_are_generic_400s(site: Site) -> None:
    with Browser(site) as browser:
        browser.log_in()
        expected = [
            (browser.get(f"{JOBS}{SOME_ID}/"), "Error retrieving export jobs"),
            (browser.get(f"{TEMPLATES}{SOME_ID}/"), "Error retrieving export templates"),
            (browser.write("DELETE", f"{JOBS}{SOME_ID}/"), "Error deleting export job"),
            (
                browser.write("PUT", f"{TEMPLATES}{SOME_ID}/", json={}),
                "Error updating export template",
            ),
        ]
        for answer, error in expected:
            assert (answer.status_code, answer.json()) == (400, {"success": False, "error": error})


def test_wrong_methods(site: Site) -> None:
    with Browser(site) as browser:
        browser.log_in()
        patch = browser.write("PATCH", TEMPLATES)
        assert (patch.status_code, patch.content) == (405, b"")
        assert patch.headers["allow"] == "GET, POST, PUT, DELETE, HEAD, OPTIONS"
        assert browser.write("PUT", f"{JOBS}{SOME_ID}/").status_code == 405
        on_item = browser.write("POST", f"{TEMPLATES}{SOME_ID}/", json={})
        assert (on_item.status_code, on_item.json()["error"]) == (
            405,
            "Invalid endpoint for creation",
        )
        no_id = browser.write("DELETE", JOBS)
        assert (no_id.status_code, no_id.json()["error"]) == (400, "Export job ID is required")
        wrong = browser.get(f"{JOBS}{SOME_ID}/cancel/")
        assert wrong.status_code == 404  # the job is looked up first, outside any try


def test_the_date_header_follows_the_sandbox_clock(site: Site) -> None:
    before = parsedate_to_datetime(
        httpx.get(site.root_url + "/accounts/login/", verify=SSL_CONTEXT).headers["date"]
    )
    site.advance(86400)
    answer = httpx.get(site.root_url + "/accounts/login/", verify=SSL_CONTEXT)
    assert len(answer.headers.get_list("date")) == 1
    moved = parsedate_to_datetime(answer.headers["date"]) - before
    assert 86400 <= moved.total_seconds() <= 86400 + 5


def test_admin_routes_need_the_sandbox_login(site: Site) -> None:
    answer = httpx.get(site.root_url + "/_sandbox/datatools/health", verify=SSL_CONTEXT)
    assert answer.status_code == 401
    assert site.admin("GET", "health").json() == {"status": "ok"}
    names = [d["name"] for d in site.admin("GET", "datasources").json()["datasources"]]
    assert names == ["colleague-private", "empty", "sales"]


def test_admin_knobs_refuse_unknown_names_and_bad_values(site: Site) -> None:
    assert site.admin("PUT", "knobs", json={"nope": 1}).status_code == 400
    assert site.admin("PUT", "knobs", json={"upstream_bug": "all"}).status_code == 400
    assert site.admin("PUT", "faults", json={"error_rate": 2}).status_code == 400
    assert site.admin("POST", "clock", json={"advance_s": -1}).status_code == 400
    knobs = site.admin("PUT", "knobs", json={"upstream_bug": "broker_down"}).json()
    assert knobs["upstream_bug"] == "broker_down"


def test_the_environment_names_the_login_user(site_factory: SiteFactory) -> None:
    env = {"DATATOOLS_USERNAME": "ana", "DATATOOLS_PASSWORD": "pa55"}
    site = site_factory(environ=env)
    with Browser(site) as browser:
        assert browser.log_in("sandbox", "sandbox").status_code == 200  # refused
        assert browser.log_in("ana", "pa55").status_code == 302


def test_error_faults_hit_the_site_but_not_admin(site_factory: SiteFactory) -> None:
    site = site_factory(error_rate=1.0)
    answer = httpx.get(site.root_url + "/accounts/login/", verify=SSL_CONTEXT)
    assert answer.status_code == 503
    assert "<title>503 Service Unavailable</title>" in answer.text
    assert site.admin("GET", "health").status_code == 200
