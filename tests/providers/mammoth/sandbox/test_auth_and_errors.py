"""Authentication and the error bodies every failing request gets."""

from __future__ import annotations

import pytest

from reconciler.providers.mammoth.sandbox.credentials import SandboxCredentials
from tests.conftest import SandboxFactory
from tests.providers.mammoth.sandbox.api import EXPORTS, admin, client, make_dataview, raw_client
from tests.sandboxes import RunningSandbox


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "missing X-API-KEY or X-API-SECRET header"),
        ({"X-API-KEY": "sandbox"}, "missing X-API-KEY or X-API-SECRET header"),
        ({"X-API-KEY": "sandbox", "X-API-SECRET": "wrong"}, "invalid API key or secret"),
        ({"X-API-KEY": "wrong", "X-API-SECRET": "sandbox"}, "invalid API key or secret"),
    ],
)
def test_api_refuses_missing_or_wrong_credentials(
    sandbox: RunningSandbox, headers: dict[str, str], detail: str
) -> None:
    with client(sandbox, headers) as api:
        for path in (EXPORTS, "/jobs", "/jobs/1"):
            response = api.get(path)
            assert response.status_code == 401
            body = response.json()
            assert (body["message"], body["detail"], body["error_code"]) == (
                detail,
                detail,
                "4AUTH001",
            )
            assert body["request_id"] == response.headers["X-Request-ID"]


def test_admin_routes_need_credentials_too(sandbox: RunningSandbox) -> None:
    with raw_client() as http:
        response = http.get(sandbox.root_url + "/_sandbox/health")
    assert response.status_code == 401
    assert admin(sandbox, "GET", "/health").json() == {"status": "ok"}


def test_credentials_come_from_the_config(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(credentials=SandboxCredentials("k1", "s1"))
    with client(server, {"X-API-KEY": "k1", "X-API-SECRET": "s1"}) as api:
        assert api.get("/jobs").status_code == 200
    with client(server) as api:
        assert api.get("/jobs").status_code == 401


def test_credentials_from_env_read_the_sdk_variables() -> None:
    accepted = SandboxCredentials.from_env({"MAMMOTH_API_KEY": "k", "MAMMOTH_API_SECRET": "s"})
    assert (accepted.key, accepted.secret) == ("k", "s")
    assert SandboxCredentials.from_env({}) == SandboxCredentials("sandbox", "sandbox")
    assert "'s'" not in repr(accepted)


def test_unknown_dataview_is_404(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        for response in (api.get(EXPORTS), api.get(EXPORTS + "/1")):
            assert response.status_code == 404
            assert response.json()["message"] == (
                "dataview 1/1/123/456 does not exist (workspace/project/dataset/dataview)"
            )


def test_unknown_export_is_404(sandbox: RunningSandbox) -> None:
    make_dataview(sandbox)
    with client(sandbox) as api:
        for response in (api.get(EXPORTS + "/99"), api.delete(EXPORTS + "/99")):
            assert response.status_code == 404
            assert response.json()["message"] == "export 99 does not exist in dataview 1/1/123/456"


def test_unknown_route_and_method_answer_json_errors(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        missing = api.get("/workspaces/1/nothing")
        assert missing.status_code == 404
        body = missing.json()
        # A 404 carries its sentence in message and detail null, as the SDK reads it.
        assert (body["message"], body["detail"], body["error_code"]) == (
            "Not Found",
            None,
            "4GENR004",
        )
        wrong_method = api.put(EXPORTS)
        assert wrong_method.status_code == 405
        assert wrong_method.json()["status_code"] == 405


def test_body_that_is_not_json_is_400(sandbox: RunningSandbox) -> None:
    make_dataview(sandbox)
    with client(sandbox) as api:
        response = api.post(
            EXPORTS, content=b"{not json", headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["message"] == "the request body is not valid JSON"
