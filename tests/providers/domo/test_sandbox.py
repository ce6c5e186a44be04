"""The sandbox's own contract: Domo's shapes, its admin routes, and what it never keeps."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.providers.domo.entries import AwsCredentials
from reconciler.providers.domo.sandbox.app import API_PREFIX, create_app, sandbox_service
from reconciler.providers.domo.sandbox.settings import DomoSandboxSettings
from reconciler.providers.domo.wire import request_body
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.server import serve_app_in_thread
from tests.providers.domo.support import DATASET, SECRETS, DomoSandbox, entry, run

EXPORTS = f"{API_PREFIX}/{DATASET}"


def post(sandbox: DomoSandbox, body: Any, path: str = EXPORTS) -> httpx.Response:
    return httpx.post(sandbox.root_url + path, json=body, headers=sandbox.headers)


def assert_domo_error(response: httpx.Response, status: int, words: str) -> None:
    body = response.json()
    assert response.status_code == status
    assert set(body) == {"status", "statusReason", "message", "toe"}
    assert body["status"] == status and words in body["message"]


def test_api_and_admin_routes_need_the_token(domo: DomoSandbox) -> None:
    for method, path in [("GET", EXPORTS), ("POST", "/_sandbox/domo/datasets")]:
        for headers in ({}, {"X-DOMO-Developer-Token": "nope"}, {"Authorization": "Bearer x"}):
            response = httpx.request(method, domo.root_url + path, headers=headers, json={})
            assert_domo_error(response, 401, "token is invalid or expired")


def test_unknown_routes_and_methods_answer_in_domos_error_shape(domo: DomoSandbox) -> None:
    assert_domo_error(httpx.get(domo.root_url + "/api/nothing", headers=domo.headers), 404, "")
    response = httpx.delete(domo.root_url + EXPORTS, headers=domo.headers)
    assert_domo_error(response, 405, "")


def test_the_date_header_follows_the_sandbox_clock(domo: DomoSandbox) -> None:
    def server_date() -> float:
        response = httpx.get(domo.root_url + "/_sandbox/domo/clock", headers=domo.headers)
        assert response.headers.get_list("date") == [response.headers["date"]]  # only one
        return parsedate_to_datetime(response.headers["date"]).timestamp()

    before = server_date()
    domo.advance(86400)
    assert server_date() - before >= 86400 - 1


def test_datasets_are_created_once_and_bumped_to_a_new_data_version(domo: DomoSandbox) -> None:
    response = post(domo, {"id": DATASET, "rows": 5}, "/_sandbox/domo/datasets")
    assert response.status_code == 201
    again = post(domo, {"id": DATASET, "rows": 99}, "/_sandbox/domo/datasets")
    assert again.status_code == 200 and again.json()["row_count"] == 5
    assert domo.bump(rows=7) == {**again.json(), "data_version": 2, "row_count": 7}
    assert post(domo, {}, "/_sandbox/domo/datasets").json()["id"]  # a new UUID when none given


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/_sandbox/domo/datasets", {"rows": -1}, "rows"),
        ("/_sandbox/domo/datasets", {"columns": "Region"}, "columns"),
        ("/_sandbox/domo/datasets", [], "object"),
        (f"/_sandbox/domo/datasets/{DATASET}/bump", {}, "not found"),
        ("/_sandbox/domo/clock", {"advance_s": -5}, "advance_s"),
    ],
)
def test_admin_routes_refuse_bad_requests(
    domo: DomoSandbox, path: str, body: Any, words: str
) -> None:
    response = post(domo, body, path)
    assert response.status_code in (400, 404)
    assert words in response.json()["message"]


def test_fault_knobs_are_read_and_set_over_http(domo: DomoSandbox) -> None:
    assert domo.admin("GET", "/faults")["error_rate"] == 0
    assert domo.admin("PUT", "/faults", {"error_rate": 1})["error_rate"] == 1
    assert_domo_error(httpx.get(domo.root_url + EXPORTS, headers=domo.headers), 503, "error_rate")
    response = httpx.put(
        domo.root_url + "/_sandbox/domo/faults", json={"api_key": "x"}, headers=domo.headers
    )
    assert_domo_error(response, 400, "unknown fault knob")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"region": "us-esat-1"}, "Unknown AWS region"),
        ({"awsAccessSecret": None}, "awsAccessKey and awsAccessSecret are required"),
        ({"path": 5}, "path must be a string"),
        ({"queryRequest": "{not json"}, "queryRequest is not JSON"),
        ({"queryRequest": [1]}, "queryRequest must be an object"),
        ({"queryRequest": {"query": {"columns": {}}}}, "query.columns must be a list"),
    ],
)
def test_requests_domo_could_not_run_are_400s(
    domo: DomoSandbox, change: dict[str, Any], words: str
) -> None:
    domo.dataset()
    body = {**request_body(entry().request), **change}
    assert_domo_error(post(domo, {k: v for k, v in body.items() if v is not None}), 400, words)


def test_a_query_sent_as_json_text_as_the_spec_types_it_is_accepted(domo: DomoSandbox) -> None:
    domo.dataset(columns=["Region"])
    body = request_body(entry(query={"columns": ["Region"]}).request)
    response = post(domo, {**body, "queryRequest": json.dumps(body["queryRequest"])})
    assert response.status_code == 200 and response.json()["exportStatus"] == "none"


def test_without_bucket_or_path_domo_picks_its_bucket_and_the_dataset_id(
    domo: DomoSandbox,
) -> None:
    domo.dataset()
    assert post(domo, {}).status_code == 200
    domo.advance(1)
    (export,) = domo.raw_exports().json()
    (url,) = export["urlRowCountMap"]
    assert url == f"s3://domo-managed-exports/{DATASET}/{export['exportId']}/export/data.csv.gz"


def test_credentials_are_never_stored(domo: DomoSandbox) -> None:
    domo.dataset()

    async def start() -> None:
        async with domo.client() as client:
            await client.start_export(entry().request)

    run(start())
    domo.advance(1)
    assert len(domo.raw_exports().json()) == 1
    stored = b"".join(p.read_bytes() for p in domo.db_path.parent.glob(domo.db_path.name + "*"))
    assert all(secret.encode() not in stored for secret in SECRETS)
    assert all(secret not in domo.raw_exports().text for secret in SECRETS)


def test_data_survives_a_restart_on_the_same_database(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    for expected in (0, 1):
        app = create_app(db, settings=DomoSandboxSettings())
        try:
            with serve_app_in_thread(app, date_header=False) as root:
                sandbox = DomoSandbox(root, "sandbox", db)
                sandbox.dataset()
                assert len(sandbox.raw_exports().json()) == expected
                post(sandbox, {})
        finally:
            sandbox_service(app).store.close()


def test_the_token_comes_from_the_environment_or_defaults_to_sandbox() -> None:
    assert DomoSandboxSettings.from_env({}).token == "sandbox"
    assert DomoSandboxSettings.from_env({"DOMO_DEVELOPER_TOKEN": "t0k"}).token == "t0k"
    assert "t0k" not in repr(DomoSandboxSettings("t0k"))
    assert repr(AwsCredentials("a", "b")) == "AwsCredentials(<redacted>)"


def test_an_injected_clock_drives_the_exports_and_the_date(tmp_path: Path) -> None:
    clock = SandboxClock()
    config = SandboxConfig(job_delay_ms=3_600_000)
    app = create_app(tmp_path / "clocked.db", config=config, clock=clock)
    try:
        with serve_app_in_thread(app, date_header=False) as root:
            sandbox = DomoSandbox(root, "sandbox", tmp_path / "clocked.db")
            sandbox.dataset()
            post(sandbox, {})
            assert sandbox.raw_exports().json()[0]["exportStatus"] == "exporting"
            clock.advance(3601)
            response = sandbox.raw_exports()
            assert response.json()[0]["exportStatus"] == "success"
            served = parsedate_to_datetime(response.headers["date"]).timestamp()
            assert served == pytest.approx(clock.now(), abs=2)
    finally:
        sandbox_service(app).store.close()
