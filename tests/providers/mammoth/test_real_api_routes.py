"""The client shows the real server's error bodies; the sandbox answers the
routes and malformed ids the SDK and mammoth-cli send."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.errors import ApiError
from reconciler.providers.mammoth.client import MammothClient
from tests.conftest import SANDBOX_HEADERS, SandboxFactory
from tests.providers.mammoth.client.support import REF, run, s3_body
from tests.sandboxes import RunningSandbox


def _sandbox(factory: SandboxFactory) -> RunningSandbox:
    server = factory()
    server.store.ensure_dataviews([REF])
    return server


def test_a_refusal_shows_the_servers_message_code_and_hint(
    sandbox_factory: SandboxFactory,
) -> None:
    server = _sandbox(sandbox_factory)

    async def bad_add() -> None:
        async with MammothClient(server.base_url, "sandbox", "sandbox") as client:
            await client.add_export(REF, {**s3_body("a.csv"), "handler_type": "nope"})

    with pytest.raises(ApiError) as caught:
        run(bad_add())
    message = caught.value.message
    assert "AddExportSpec: handler_type must be one of" in message
    assert "[4GENR007]. Hint: Fix the field the message names" in message
    assert "Traceback" not in message


def test_the_sdks_dataview_lookup_finds_the_dataset(sandbox_factory: SandboxFactory) -> None:
    server = _sandbox(sandbox_factory)
    base = f"{server.base_url}/workspaces/{REF.workspace_id}/projects/{REF.project_id}"
    found = httpx.get(f"{base}/resources/dataview/{REF.dataview_id}", headers=SANDBOX_HEADERS)
    assert found.status_code == 200
    assert found.json()["resource"]["dataset"] == {"id": REF.dataset_id}
    missing = httpx.get(f"{base}/resources/dataview/999", headers=SANDBOX_HEADERS)
    assert (missing.status_code, missing.json()["detail"]) == (404, None)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/jobs/99999999999999999999", {}),
        ("/jobs", {"job_ids": "\u00b3"}),
        ("/jobs", {"job_ids": "\u0663"}),
        (
            "/workspaces/1/projects/1/datasets/1/dataviews/1/pipeline/exports/2"
            + "0" * 20
            + "/runs",
            {},
        ),
        ("/workspaces/1/projects/1/datasets/1/dataviews/99999999999999999999/pipeline/exports", {}),
        ("/workspaces/1/projects/1/datasets/1/dataviews/1/pipeline/exports", {"offset": "\u0663"}),
        (
            "/workspaces/1/projects/1/datasets/1/dataviews/1/pipeline/exports",
            {"offset": "99999999999999999999"},
        ),
    ],
)
def test_ids_beyond_64_bits_and_other_scripts_digits_are_400_not_500(
    sandbox_factory: SandboxFactory, path: str, params: dict[str, str]
) -> None:
    server = _sandbox(sandbox_factory)
    answer = httpx.get(server.base_url + path, params=params, headers=SANDBOX_HEADERS)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "4GENR007"


def test_sandbox_serve_has_the_switch_that_ignores_keys() -> None:
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--help"])
    assert result.exit_code == 0
    assert "--ignore-idempotency-keys" in result.stdout
    assert "--job-rate" in result.stdout and "[default: 1" in result.stdout
