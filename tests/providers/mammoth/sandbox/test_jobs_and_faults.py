"""202 jobs, the fault knobs, and determinism for a given seed."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from pathlib import Path

import anyio
import httpx
import pytest

from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.sandbox.app import create_app
from reconciler.providers.mammoth.sandbox.jobs import INJECTED_FAILURE
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.transport import in_process_transport
from tests.conftest import SANDBOX_HEADERS, SandboxFactory
from tests.providers.mammoth.sandbox.api import EXPORTS, add_body, admin, client, make_dataview
from tests.sandboxes import RunningSandbox


def _wait_job(api: httpx.Client, job_id: int) -> dict[str, object]:
    deadline = time.monotonic() + 5
    while True:
        job = api.get(f"/jobs/{job_id}").json()["job"]
        if job["status"] != "processing" or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.005)


def _rows(server: RunningSandbox) -> int:
    with sqlite3.connect(server.store.path) as db:
        count: int = db.execute("SELECT count(*) FROM exports").fetchone()[0]
    return count


def test_job_lifecycle_add_edit_delete(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(job_rate=1, job_delay_ms=30)
    make_dataview(server)
    with client(server) as api:
        answer = api.post(EXPORTS, json=add_body("a.csv"))
        assert answer.status_code == 202
        job = answer.json()["job"]
        assert (job["status"], job["operation"], job["response"]) == (
            "processing",
            "add_export",
            {},
        )
        assert api.get(EXPORTS).json()["exports"] == []  # not applied until the job succeeds
        done = _wait_job(api, job["id"])
        assert done["status"] == "success"
        assert done["response"] == {"trigger_id": 1, "status": "added", "future_id": None}
        assert len(api.get(EXPORTS).json()["exports"]) == 1
        delete = api.delete(EXPORTS + "/1")
        assert delete.status_code == 202
        listed = api.get(
            "/jobs", params={"job_ids": f"{job['id']},{delete.json()['job']['id']},99"}
        )
        assert [j["id"] for j in listed.json()["jobs"]] == [1, 2]
        assert _wait_job(api, 2)["response"] == {
            "trigger_id": 1,
            "status": "deleted",
            "future_id": None,
        }


def test_a_job_fails_when_its_change_clashes_meanwhile(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(job_rate=1, job_delay_ms=30)
    make_dataview(server)
    with client(server) as api:
        first = api.post(EXPORTS, json=add_body("same.csv")).json()["job"]["id"]
        second = api.post(EXPORTS, json=add_body("same.csv")).json()["job"]["id"]
        assert _wait_job(api, first)["status"] == "success"
        failed = _wait_job(api, second)
        assert failed["status"] == "failure"
        reason = (
            "target_properties.file 'same.csv' is already used by export 1 of this "
            "dataview (dataview 456); choose another file"
        )
        # Where the official SDK looks for it: response.error, then response.response.detail.
        assert failed["response"]["error"] == reason
        refusal = failed["response"]["response"]
        assert (refusal["detail"], refusal["error_code"]) == (reason, "4GENR007")


def test_job_failure_rate_fails_jobs_without_changing_anything(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory(job_rate=1, job_failure_rate=1, job_delay_ms=0)
    make_dataview(server)
    with client(server) as api:
        job = api.post(EXPORTS, json=add_body()).json()["job"]
        assert _wait_job(api, job["id"])["response"] == {"reason": INJECTED_FAILURE}
    assert _rows(server) == 0


def test_jobs_errors(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        # The spec's job routes answer 200, 400 or 401: an unknown id is a 400.
        assert api.get("/jobs/7").status_code == 400
        assert api.get("/jobs", params={"job_ids": "1,x"}).status_code == 400
        # Ids beyond 64 bits and digits of other scripts are refused, not a 500.
        assert api.get("/jobs/99999999999999999999").status_code == 400
        assert api.get("/jobs", params={"job_ids": "\u00b3"}).status_code == 400
        assert api.get("/jobs", params={"job_ids": "99999999999999999999"}).status_code == 400
        assert api.get("/jobs").json() == {"jobs": []}


def test_latency(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(latency_ms=120)
    with client(server) as api:
        started = time.perf_counter()
        api.get("/jobs")
        assert time.perf_counter() - started >= 0.12


def test_error_rate_answers_503_before_doing_anything(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(error_rate=1)
    make_dataview(server)
    with client(server) as api:
        response = api.post(EXPORTS, json=add_body())
    assert response.status_code == 503
    assert response.json()["message"] == "sandbox fault: service unavailable (error_rate)"
    assert _rows(server) == 0
    assert admin(server, "GET", "/health").status_code == 200  # faults spare admin routes


def test_throttle_sends_retry_after_as_given(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(throttle_rate=1, retry_after_s=0.05)
    with client(server) as api:
        response = api.get("/jobs")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "0.05"


def test_commit_then_fail_503_commits(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(commit_then_fail_rate=1)
    make_dataview(server)
    with client(server) as api:
        response = api.post(EXPORTS, json=add_body())
        assert response.status_code == 503
        assert response.json()["message"] == (
            "sandbox fault: the change was saved, but the answer failed (503)"
        )
        server.set_faults(commit_then_fail_rate=0)
        assert [e["id"] for e in api.get(EXPORTS).json()["exports"]] == [1]


def test_commit_then_fail_drop_closes_the_socket_without_an_answer(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory(commit_then_fail_every=1, commit_then_fail_mode="drop")
    make_dataview(server)
    host, port = server.root_url.removeprefix("http://").split(":")
    body = json.dumps(add_body()).encode()
    request = (
        f"POST /api/v2{EXPORTS} HTTP/1.1\r\nHost: x\r\nX-API-KEY: sandbox\r\n"
        f"X-API-SECRET: sandbox\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    assert received == b""
    with client(server) as api, pytest.raises(httpx.RemoteProtocolError):
        api.post(EXPORTS, json=add_body("b.csv"))
    assert _rows(server) == 2


def test_commit_then_fail_every_nth(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(commit_then_fail_every=3)
    make_dataview(server)
    with client(server) as api:
        codes = [api.post(EXPORTS, json=add_body(f"{i}.csv")).status_code for i in range(6)]
    assert codes == [201, 201, 503, 201, 201, 503]
    assert _rows(server) == 6


def test_faults_repeat_for_the_same_seed(sandbox_factory: SandboxFactory) -> None:
    def run(seed: int) -> list[int]:
        server = sandbox_factory(error_rate=0.3, throttle_rate=0.3, retry_after_s=0, seed=seed)
        with client(server) as api:
            return [api.get("/jobs").status_code for _ in range(30)]

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert {200, 429, 503} <= set(first)


def test_faults_change_at_runtime_through_the_admin_route(sandbox: RunningSandbox) -> None:
    changed = admin(sandbox, "PUT", "/faults", json={"error_rate": 1})
    assert changed.json()["error_rate"] == 1
    assert "api_secret" not in changed.json()
    with client(sandbox) as api:
        assert api.get("/jobs").status_code == 503
    bad = admin(sandbox, "PUT", "/faults", json={"error_rate": 2})
    assert (bad.status_code, bad.json()["message"]) == (
        400,
        "error_rate must be between 0 and 1, got 2",
    )
    unknown = admin(sandbox, "PUT", "/faults", json={"api_key": "x"})
    assert unknown.json()["message"] == "unknown fault knob(s): api_key"


def test_in_process_transport_turns_a_drop_into_remote_protocol_error(tmp_path: Path) -> None:
    config = SandboxConfig(job_rate=0, commit_then_fail_every=1, commit_then_fail_mode="drop")
    app = create_app(tmp_path / "s.db", config)
    app.state.sandbox.store.ensure_dataviews([DataviewRef(1, 1, 123, 456)])

    async def scenario() -> list[int]:
        async with httpx.AsyncClient(
            transport=in_process_transport(app),
            base_url="http://sandbox/api/v2",
            headers=SANDBOX_HEADERS,
        ) as api:
            with pytest.raises(httpx.RemoteProtocolError):
                await api.post(EXPORTS, json=add_body())
            listed = await api.get(EXPORTS)
        return [e["id"] for e in listed.json()["exports"]]

    assert anyio.run(scenario) == [1]
