"""Every route of the published spec, in every status the sandbox answers it with.

The client of ``api.py`` validates each body against ``schemas/api`` (the
spec's component schemas, restated by us; see each file's description), so
walking the routes here checks the shapes. ``SPEC_STATUSES`` restates, per
route, the statuses the published OpenAPI document lists; the few the
sandbox adds come from the official SDK (``SDK_STATUSES``: 409 for a key
whose first attempt runs, 429 and 503 that it retries) or are documented
sandbox decisions (``DECIDED``: a 404 for an unknown dataview on the
collection route, which the spec leaves unlisted).
"""

from __future__ import annotations

import time

import httpx

from reconciler.providers.mammoth.idempotency import HEADER
from tests.conftest import SandboxFactory
from tests.providers.mammoth.sandbox.api import EXPORTS, add_body, client, make_dataview
from tests.sandboxes import RunningSandbox

COLLECTION, ITEM = "exports", "export"
SPEC_STATUSES = {
    ("GET", COLLECTION): {200, 400, 401, 403},
    ("POST", COLLECTION): {201, 202, 400, 401, 403},
    ("GET", ITEM): {200, 400, 401, 403, 404},
    ("PATCH", ITEM): {200, 202, 400, 401, 403, 404},
    ("DELETE", ITEM): {200, 201, 202, 400, 401, 403, 404},
    ("GET", "job"): {200, 400, 401},
    ("GET", "jobs"): {200, 400, 401},
}
SDK_STATUSES = {409, 429, 503}
DECIDED = {("GET", COLLECTION): {404}, ("POST", COLLECTION): {404}}
SUSPEND = {"patches": [{"op": "command", "path": "suspend", "value": None}]}


def _route(method: str, path: str) -> tuple[str, str]:
    if path.startswith("/jobs/"):
        return method, "job"
    if path.startswith("/jobs"):
        return method, "jobs"
    return method, COLLECTION if path.split("?")[0].endswith("/exports") else ITEM


def _requests(api: httpx.Client) -> list[tuple[str, str, httpx.Response]]:
    sent: list[tuple[str, str, httpx.Response]] = []

    def send(method: str, path: str, **kwargs: object) -> httpx.Response:
        response = api.request(method, path, **kwargs)  # type: ignore[arg-type]
        sent.append((method, path, response))
        return response

    added = send("POST", EXPORTS, json=add_body("a.csv")).json()
    job_id = added["job"]["id"] if "job" in added else 1
    send("POST", EXPORTS, json=add_body("b.csv", validate_only=True))
    send("POST", EXPORTS, json=add_body(handler_type="nope"))
    send("GET", EXPORTS)
    send("GET", EXPORTS, params={"limit": 101})
    send("GET", EXPORTS + "/1")
    send("GET", EXPORTS + "/99")
    send("GET", EXPORTS + "/99999999999999999999")
    send("PATCH", EXPORTS + "/1", json=SUSPEND)
    send("PATCH", EXPORTS + "/1", json={"patches": []})
    send("PATCH", EXPORTS + "/99", json=SUSPEND)
    send("DELETE", EXPORTS + "/99")
    send("DELETE", EXPORTS + "/1")
    send("GET", f"/jobs/{job_id}")
    send("GET", "/jobs/12345")
    send("GET", "/jobs", params={"job_ids": f"{job_id},2"})
    send("GET", "/jobs", params={"job_ids": "\u00b3"})
    send("GET", "/workspaces/1/projects/1/datasets/123/dataviews/999/pipeline/exports")
    return sent


def test_every_route_answers_only_statuses_the_spec_or_the_sdk_names(
    sandbox_factory: SandboxFactory,
) -> None:
    seen: dict[tuple[str, str], set[int]] = {}
    for job_rate in (1, 0):  # 202 with a job (the default), then answered at once
        server = sandbox_factory(job_rate=job_rate)
        make_dataview(server)
        with client(server) as api:  # validates every body it receives
            for method, path, response in _requests(api):
                seen.setdefault(_route(method, path), set()).add(response.status_code)
        with client(server, {}) as anonymous:
            for method, path, _ in _requests_without_bodies():
                status = anonymous.request(method, path).status_code
                seen.setdefault(_route(method, path), set()).add(status)
    for route, statuses in seen.items():
        allowed = SPEC_STATUSES[route] | SDK_STATUSES | DECIDED.get(route, set())
        assert statuses <= allowed, (route, statuses - allowed)
    assert seen[("POST", COLLECTION)] >= {201, 202, 400, 401}
    assert seen[("GET", "job")] == {200, 400, 401}


def _requests_without_bodies() -> list[tuple[str, str, None]]:
    routes = ("GET", EXPORTS), ("POST", EXPORTS), ("GET", "/jobs"), ("GET", "/jobs/1")
    return [(method, path, None) for method, path in routes]


def test_faults_and_a_running_key_answer_in_the_error_shape(
    sandbox_factory: SandboxFactory, sandbox: RunningSandbox
) -> None:
    throttled = sandbox_factory(throttle_rate=1)
    failing = sandbox_factory(error_rate=1)
    for server, status in ((throttled, 429), (failing, 503)):
        with client(server) as api:
            assert api.get("/jobs").status_code == status
    make_dataview(sandbox)
    with sandbox.store.write() as tx:
        tx.reserve_key("busy", f"POST /api/v2{EXPORTS}", time.time())
    with client(sandbox) as api:
        answer = api.post(EXPORTS, json=add_body(), headers={HEADER: "busy"})
    assert answer.status_code == 409
