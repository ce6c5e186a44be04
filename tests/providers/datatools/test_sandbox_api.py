"""The sandbox's export API as FACTS.md records the real one: templates and jobs, raw HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.providers.datatools.sandbox.knobs import DatatoolsKnobs
from reconciler.providers.datatools.sandbox.seed import DATASOURCES
from reconciler.providers.datatools.sandbox.service import BROKER_DOWN
from tests.providers.datatools.conftest import SiteFactory
from tests.providers.datatools.support import API, Browser, Site

TEMPLATES = f"{API}/export-templates/"
JOBS = f"{API}/exports/"
TEMPLATE_FIELDS = {
    "id",
    "name",
    "description",
    "user",
    "template_type",
    "is_active",
    "configuration",
    "usage_count",
    "format",
    "has_filters",
    "created_at",
    "updated_at",
    "last_used_at",
}


@pytest.fixture
def browser(site: Site) -> Iterator[Browser]:
    with Browser(site) as logged_in:
        assert logged_in.log_in().status_code == 302
        yield logged_in


@pytest.fixture
def shared_browser(shared_site: Site) -> Iterator[Browser]:
    """Logged in to the module's shared sandbox: for cases that change nothing others see."""
    with Browser(shared_site) as logged_in:
        assert logged_in.log_in().status_code == 302
        yield logged_in


def create(browser: Browser, **body: Any) -> httpx.Response:
    return browser.write("POST", TEMPLATES, json={"configuration": {"format": "csv"}, **body})


def listed_names(browser: Browser) -> list[tuple[str, str]]:
    templates = browser.get(TEMPLATES).json()["data"]["templates"]
    return sorted((t["user"], t["name"]) for t in templates)


def wait_for(browser: Browser, job_id: str, *statuses: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        job: dict[str, Any] = browser.get(f"{JOBS}{job_id}/").json()["data"]
        if job["status"] in statuses or time.monotonic() > deadline:
            return job
        time.sleep(0.01)


# -- templates ---------------------------------------------------------------------------


def test_the_listing_shows_own_system_and_shared_templates_only(browser: Browser) -> None:
    assert create(browser, name="Mine").status_code == 201
    assert listed_names(browser) == [
        ("colleague", "Team KPIs"),
        ("sandbox", "Mine"),
        ("system", "CSV - Full Export"),
        ("system", "Excel - Report Export"),
        ("system", "JSON - Full Export"),
        ("system", "Parquet - Optimized Export"),
    ]  # not the colleague's private "Scratch"


def test_create_answers_201_with_the_whole_normalized_template(browser: Browser) -> None:
    configuration = {
        "format": "PARQUET",
        "filters": {"limit": 0, "columns": ["a"], "include_headers": True, "limit2": 1},
        "options": {"compression": "snappy"},
    }
    answer = create(browser, name="  Weekly  ", description=" d ", configuration=configuration)
    assert answer.status_code == 201
    body = answer.json()
    assert (body["success"], body["message"]) == (True, "Export template created successfully")
    template = body["data"]
    assert set(template) == TEMPLATE_FIELDS
    assert (template["name"], template["description"], template["user"]) == (
        "Weekly",
        "d",
        "sandbox",
    )
    assert template["configuration"] == {
        "format": "parquet",
        "filters": {"columns": ["a"]},
        "options": {"compression": "snappy"},
    }
    assert (template["format"], template["has_filters"], template["template_type"]) == (
        "parquet",
        True,
        "user",
    )
    assert template["created_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "configuration": {"format": "xml"}},
        {"name": "x", "configuration": {}},
        {"name": "   ", "configuration": {"format": "csv"}},
        {"name": "x", "configuration": {"format": "csv", "filters": {"limit": -1}}},
        {"name": "x", "configuration": {"format": "csv", "filters": {"columns": "a"}}},
        {"name": "x", "configuration": {"format": "csv"}, "template_type": "system"},
        {"name": "x", "configuration": {"format": "csv"}, "is_active": "yes"},
        {"name": "x", "configuration": {"format": "csv"}, "description": None},
        {"name": "Dup", "configuration": {"format": "csv"}},
    ],
)
def test_every_invalid_template_is_the_same_generic_400(
    shared_browser: Browser, body: dict[str, Any]
) -> None:
    assert create(shared_browser, name="Dup").status_code in (
        201,
        400,
    )  # 400: made by a case before
    assert ("sandbox", "Dup") in listed_names(shared_browser)
    answer = shared_browser.write("POST", TEMPLATES, json=body)
    assert (answer.status_code, answer.json()) == (
        400,
        {"success": False, "error": "Error creating export template"},
    )


def test_a_body_that_is_not_json_is_invalid_json_data(browser: Browser) -> None:
    answer = browser.write(
        "POST", TEMPLATES, content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert (answer.status_code, answer.json()["error"]) == (400, "Invalid JSON data")


def test_a_form_post_may_carry_the_configuration_as_json(browser: Browser) -> None:
    form = {"name": "From a form", "configuration": '{"format": "JSON"}'}
    answer = browser.write("POST", TEMPLATES, data=form)
    assert answer.status_code == 201
    assert answer.json()["data"]["configuration"] == {"format": "json"}


def test_put_merges_configuration_one_level_deep_and_ignores_template_type(
    browser: Browser,
) -> None:
    configuration = {"format": "csv", "options": {"sep": ";"}, "filters": {"limit": 5}}
    template = create(browser, name="Merge", configuration=configuration).json()["data"]
    change = {"configuration": {"format": "JSON", "filters": {}}, "template_type": "shared"}
    answer = browser.write("PUT", f"{TEMPLATES}{template['id']}/", json=change)
    assert (answer.status_code, answer.json()["message"]) == (
        200,
        "Export template updated successfully",
    )
    updated = answer.json()["data"]
    assert updated["configuration"] == {"format": "json", "options": {"sep": ";"}, "filters": {}}
    assert updated["template_type"] == "user"
    assert updated["updated_at"] > template["updated_at"]


def test_put_with_another_content_type_is_a_no_op_200(browser: Browser) -> None:
    template = create(browser, name="Same").json()["data"]
    answer = browser.write(
        "PUT",
        f"{TEMPLATES}{template['id']}/",
        content=b"name=Other",
        headers={"Content-Type": "text/plain"},
    )
    assert answer.status_code == 200
    assert answer.json()["data"]["name"] == "Same"


def test_put_refuses_a_null_description_with_the_generic_400(browser: Browser) -> None:
    template = create(browser, name="Desc").json()["data"]
    answer = browser.write("PUT", f"{TEMPLATES}{template['id']}/", json={"description": None})
    assert (answer.status_code, answer.json()["error"]) == (400, "Error updating export template")


def test_other_users_templates_are_readable_or_hidden_and_never_writable(
    browser: Browser,
) -> None:
    templates = browser.get(TEMPLATES).json()["data"]["templates"]
    shared = next(t for t in templates if t["name"] == "Team KPIs")
    system = next(t for t in templates if t["template_type"] == "system")
    assert browser.get(f"{TEMPLATES}{shared['id']}/").status_code == 200
    for template, verb in ((shared, "modify"), (system, "modify")):
        put = browser.write("PUT", f"{TEMPLATES}{template['id']}/", json={"name": "Mine now"})
        assert (put.status_code, put.json()["error"]) == (
            403,
            f"You do not have permission to {verb} this template",
        )
    delete = browser.write("DELETE", f"{TEMPLATES}{shared['id']}/")
    assert (delete.status_code, delete.json()["error"]) == (
        403,
        "You do not have permission to delete this template",
    )


def test_the_colleagues_private_template_is_invisible_by_id(site: Site) -> None:
    with Browser(site) as colleague:
        colleague.log_in("colleague", "colleague")
        templates = colleague.get(TEMPLATES).json()["data"]["templates"]
        scratch = next(t for t in templates if t["name"] == "Scratch")
    with Browser(site) as browser:
        browser.log_in()
        answer = browser.get(f"{TEMPLATES}{scratch['id']}/")
        assert (answer.status_code, answer.json()["error"]) == (
            400,
            "Error retrieving export templates",
        )


def test_a_name_may_repeat_across_users_but_not_for_one(browser: Browser) -> None:
    assert create(browser, name="CSV - Full Export").status_code == 201  # a system one's name
    assert create(browser, name="CSV - Full Export").status_code == 400


def test_a_deactivated_template_leaves_the_listing_but_is_readable(browser: Browser) -> None:
    template = create(browser, name="Quiet").json()["data"]
    browser.write("PUT", f"{TEMPLATES}{template['id']}/", json={"is_active": False})
    assert ("sandbox", "Quiet") not in listed_names(browser)
    assert browser.get(f"{TEMPLATES}{template['id']}/").json()["data"]["is_active"] is False
    assert create(browser, name="Quiet").status_code == 400  # its name is still taken


def test_delete_answers_without_data_and_a_repeat_is_a_400(browser: Browser) -> None:
    template = create(browser, name="Gone").json()["data"]
    first = browser.write("DELETE", f"{TEMPLATES}{template['id']}/")
    assert first.json() == {"success": True, "message": "Export template deleted successfully"}
    again = browser.write("DELETE", f"{TEMPLATES}{template['id']}/")
    assert (again.status_code, again.json()["error"]) == (400, "Error deleting export template")


def test_listing_filters_by_type_format_and_search(browser: Browser) -> None:
    create(browser, name="Alpha", description="weekly numbers")

    def names(**query: str) -> list[str]:
        templates = browser.get(TEMPLATES, params=query).json()["data"]["templates"]
        return sorted(t["name"] for t in templates)

    assert names(type="shared") == ["Team KPIs"]
    assert names(type="bogus") == names()
    assert names(format="parquet") == ["Parquet - Optimized Export"]
    assert names(search="WEEKLY") == ["Alpha"]


# -- jobs --------------------------------------------------------------------------------


def start(browser: Browser, **body: Any) -> httpx.Response:
    return browser.write(
        "POST", JOBS, json={"datasource": DATASOURCES["sales"], "format": "csv", **body}
    )


def test_a_job_is_pending_when_created_and_completes_with_a_file(browser: Browser) -> None:
    filters = {"columns": ["region", "amount", "nope"], "limit": 10, "offset": 5, "date_range": {}}
    created = start(browser, format="CSV", filters=filters)
    assert created.status_code == 201
    job = created.json()["data"]
    assert (job["status"], job["progress"], job["format"], job["file_path"]) == (
        "pending",
        0,
        "csv",
        "",
    )
    assert job["filters"] == {"columns": ["region", "amount", "nope"], "limit": 10, "offset": 5}
    assert job["datasource"] == {"id": DATASOURCES["sales"], "name": "sales"}
    done = wait_for(browser, job["id"], "completed")
    assert (done["status"], done["progress"], done["row_count"]) == ("completed", 100, 5)
    assert done["is_completed"] and done["duration_seconds"] is not None
    download = browser.get(f"{JOBS}{job['id']}/download/")
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"] == (
        f'attachment; filename="sales_export_{job["id"]}.csv"'
    )
    assert download.text.splitlines() == [
        "region,amount",
        "east,222",
        "west,259",
        "north,296",
        "south,333",
        "east,370",
    ]


def test_a_job_of_an_empty_datasource_fails_with_its_message(browser: Browser) -> None:
    job = start(browser, datasource=DATASOURCES["empty"]).json()["data"]
    failed = wait_for(browser, job["id"], "failed")
    assert (failed["status"], failed["error_message"]) == ("failed", "No data available for export")
    download = browser.get(f"{JOBS}{job['id']}/download/")
    assert (download.status_code, download.json()["error"]) == (
        404,
        "Export file is not available for download",
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"datasource": "abc"}, "['“abc” is not a valid UUID.']"),
        ({"datasource": DATASOURCES["colleague-private"]}, "Error creating export job"),
        ({"datasource": "0b6d2a52-8d2f-4a6e-9f53-0f3b1e6f0c11"}, "Error creating export job"),
        ({"format": "xml"}, "Error creating export job"),
        ({"format": ""}, "Error creating export job"),
        ({"filters": "limit=5"}, "Error creating export job"),
    ],
)
def test_job_create_refusals(shared_browser: Browser, body: dict[str, Any], error: str) -> None:
    answer = start(shared_browser, **body)
    assert (answer.status_code, answer.json()) == (400, {"success": False, "error": error})


def test_running_jobs_cannot_be_deleted_and_finished_ones_cannot_be_cancelled(
    site_factory: SiteFactory,
) -> None:
    site = site_factory(job_delay_ms=600_000)
    with Browser(site) as browser:
        browser.log_in()
        job = start(browser).json()["data"]
        refused = browser.write("DELETE", f"{JOBS}{job['id']}/")
        assert (refused.status_code, refused.json()["error"]) == (
            409,
            "Cannot delete job that is currently processing. Cancel it first.",
        )
        site.advance(600)
        assert browser.get(f"{JOBS}{job['id']}/").json()["data"]["status"] == "completed"
        cancel = browser.write("POST", f"{JOBS}{job['id']}/cancel/")
        assert (cancel.status_code, cancel.json()["error"]) == (409, "Failed to cancel export job")
        deleted = browser.write("DELETE", f"{JOBS}{job['id']}/")
        assert deleted.json() == {"success": True, "message": "Export job deleted successfully"}


def test_a_job_cancelled_while_pending_never_runs(site_factory: SiteFactory) -> None:
    site = site_factory(job_delay_ms=600_000)
    with Browser(site) as browser:
        browser.log_in()
        job = start(browser).json()["data"]
        cancelled = browser.write("POST", f"{JOBS}{job['id']}/cancel/").json()
        assert (cancelled["message"], cancelled["data"]["status"]) == (
            "Export job cancelled successfully",
            "cancelled",
        )
        site.advance(3600)
        assert browser.get(f"{JOBS}{job['id']}/").json()["data"]["status"] == "cancelled"


def test_a_job_cancelled_while_processing_may_still_complete(site_factory: SiteFactory) -> None:
    site = site_factory(job_delay_ms=600_000)
    with Browser(site) as browser:
        browser.log_in()
        job = start(browser).json()["data"]
        site.advance(300)  # past the pick-up, before the end
        processing = browser.get(f"{JOBS}{job['id']}/").json()["data"]
        assert (processing["status"], processing["progress"]) == ("processing", 25)
        assert browser.write("POST", f"{JOBS}{job['id']}/cancel/").status_code == 200
        site.advance(300)
        assert browser.get(f"{JOBS}{job['id']}/").json()["data"]["status"] == "completed"


def test_retry_resets_a_failed_job_to_pending_for_ever(browser: Browser, site: Site) -> None:
    job = start(browser, datasource=DATASOURCES["empty"]).json()["data"]
    wait_for(browser, job["id"], "failed")
    retried = browser.write("POST", f"{JOBS}{job['id']}/retry/").json()
    assert (retried["message"], retried["data"]["status"]) == (
        "Export job queued for retry",
        "pending",
    )
    site.advance(7 * 86400)
    assert browser.get(f"{JOBS}{job['id']}/").json()["data"]["status"] == "pending"
    again = browser.write("POST", f"{JOBS}{job['id']}/retry/")
    assert (again.status_code, again.json()["error"]) == (
        409,
        "Only failed or cancelled jobs can be retried",
    )


def test_files_expire_and_the_cleanup_marks_jobs_expired(browser: Browser, site: Site) -> None:
    job = start(browser).json()["data"]
    wait_for(browser, job["id"], "completed")
    site.advance(7 * 86400 + 1)
    assert browser.get(f"{JOBS}{job['id']}/download/").status_code == 404
    listed = browser.get(f"{JOBS}{job['id']}/").json()["data"]
    assert (listed["status"], listed["is_expired"]) == ("completed", True)
    assert site.admin("POST", "cleanup-expired").json() == {"expired": 1}
    cleaned = browser.get(f"{JOBS}{job['id']}/").json()["data"]
    assert (cleaned["status"], cleaned["file_path"]) == ("expired", "")


def test_the_job_listing_pages_newest_first_and_ignores_unknown_filters(
    browser: Browser,
) -> None:
    ids = [start(browser).json()["data"]["id"] for _ in range(5)]
    page = browser.get(JOBS, params={"page_size": 2, "page": 9}).json()["data"]
    assert [j["id"] for j in page["export_jobs"]] == [ids[0]]  # past the end: the last page
    assert page["pagination"] == {
        "total_count": 5,
        "page_count": 3,
        "current_page": 3,
        "has_previous": True,
        "has_next": False,
        "page_size": 2,
    }
    first = browser.get(JOBS, params={"page_size": 2, "page": "x"}).json()["data"]
    assert [j["id"] for j in first["export_jobs"]] == ids[:-3:-1]
    assert (
        browser.get(JOBS, params={"page_size": 500}).json()["data"]["pagination"]["page_size"]
        == 100
    )
    assert (
        browser.get(JOBS, params={"status": "expired"}).json()["data"]["pagination"]["total_count"]
        == 5
    )
    for bad in ({"page_size": "0"}, {"page_size": "x"}, {"datasource": "abc"}):
        answer = browser.get(JOBS, params=bad)
        assert (answer.status_code, answer.json()["error"]) == (400, "Error retrieving export jobs")


def test_another_users_jobs_look_unknown(site: Site) -> None:
    with Browser(site) as colleague:
        colleague.log_in("colleague", "colleague")
        body = {"datasource": DATASOURCES["colleague-private"], "format": "json"}
        job = colleague.write("POST", JOBS, json=body).json()["data"]
    with Browser(site) as browser:
        browser.log_in()
        assert browser.get(f"{JOBS}{job['id']}/").status_code == 400
        assert browser.get(JOBS).json()["data"]["export_jobs"] == []


@pytest.mark.parametrize(
    ("bug", "status", "error"),
    [
        ("access_check", 400, "Error creating export job"),
        ("broker_down", 400, BROKER_DOWN),
    ],
)
def test_the_upstream_bugs_refuse_job_creates(
    site_factory: SiteFactory, bug: str, status: int, error: str
) -> None:
    site = site_factory(knobs=DatatoolsKnobs(upstream_bug=bug))  # type: ignore[arg-type]
    with Browser(site) as browser:
        browser.log_in()
        answer = start(browser)
        assert (answer.status_code, answer.json()["error"]) == (status, error)
        saved = browser.get(JOBS).json()["data"]["export_jobs"]
        assert [j["status"] for j in saved] == (["pending"] if bug == "broker_down" else [])


def test_the_datasource_lookup_bug_fails_every_job(site_factory: SiteFactory) -> None:
    site = site_factory(knobs=DatatoolsKnobs(upstream_bug="datasource_lookup"))
    with Browser(site) as browser:
        browser.log_in()
        job = wait_for(browser, start(browser).json()["data"]["id"], "failed")
        assert job["error_message"] == "['“sales” is not a valid UUID.']"
