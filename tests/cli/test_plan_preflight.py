"""``plan --preflight``: the server's refusals in the plan, before anything is applied.

Against the sandbox on a real socket, which refuses an internal dataset whose
name another export of the project already writes, as Mammoth does, and only
at the server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.apply.helpers import REF2, seed
from tests.cli.support import (
    REFUSED_MANIFEST,
    TAKEN_BODY,
    TAKEN_DATASET,
    export_ids,
    invoke,
    lines,
    write_manifest,
)
from tests.render.schemas import errors
from tests.sandboxes import RunningSandbox

pytestmark = pytest.mark.usefixtures("credentials")

DETAIL = (
    f"target_properties.dataset_name {TAKEN_DATASET!r} is already used by export 1 of "
    "this project (dataview 457); choose another dataset_name [4GENR007]. Hint: Fix the "
    "field the message names and send the request again."
)
REFUSED = [
    "Preflight failed: the server refused 1 change sent with validate_only, so apply would "
    "stop before changing anything:",
    f"  ! dataview 1/1/123/456: curated (400): {DETAIL}",
]


@pytest.fixture
def refused_manifest(tmp_path: Path, server: RunningSandbox) -> Path:
    seed(server.base_url, REF2, [TAKEN_BODY])
    return write_manifest(tmp_path, REFUSED_MANIFEST)


def _plan(server: RunningSandbox, manifest: Path, *extra: str) -> list[str]:
    return ["plan", "-f", str(manifest), "--endpoint", server.base_url, "--preflight", *extra]


def test_a_change_the_server_refuses_is_shown_in_the_plan_and_exits_1(
    server: RunningSandbox, refused_manifest: Path, tmp_path: Path
) -> None:
    out = tmp_path / "refused.plan"
    result = invoke(*_plan(server, refused_manifest, "--out", out))
    assert lines(result.stdout)[-2:] == REFUSED
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        "Error: Preflight failed for 1 change (listed in the plan): apply would stop before "
        "changing anything. Fix the manifest (or the platform) and plan again; a dry run that "
        "got no verdict may simply pass later."
    ]
    assert not out.exists()
    assert export_ids(server.base_url) == {}  # dry runs only


def test_the_json_plan_carries_the_verdict_in_the_published_schema(
    server: RunningSandbox, refused_manifest: Path
) -> None:
    result = invoke(*_plan(server, refused_manifest, "--format", "json"))
    document = json.loads(result.stdout)
    assert errors("plan.schema.json", document) == []
    assert document["preflight"] == {
        "sent": 4,
        "failures": [
            {
                "provider": "mammoth",
                "kind": "exports",
                "address": "1/1/123/456",
                "noun": "dataview",
                "key": "curated",
                "action": "add",
                "status_code": 400,
                "detail": DETAIL,
                "failure": "refused",
            }
        ],
    }
    assert result.exit_code == 1


def test_the_pr_comment_warns_before_the_merge(
    server: RunningSandbox, refused_manifest: Path
) -> None:
    result = invoke(*_plan(server, refused_manifest, "--format", "markdown"))
    text = result.stdout
    assert (
        f"> **{REFUSED[0]}**\n\n```text\ndataview 1/1/123/456: curated (400): {DETAIL}\n```" in text
    )
    assert result.exit_code == 1


def test_a_plan_the_server_accepts_says_so_and_changes_nothing(
    server: RunningSandbox, manifest: Path
) -> None:
    result = invoke(*_plan(server, manifest, "--detailed-exitcode"))
    assert lines(result.stdout)[-2:] == [
        "Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy, 0 to adopt.",
        "Preflight passed: the server accepted 3 changes sent with validate_only.",
    ]
    assert result.exit_code == 2
    assert export_ids(server.base_url) == {}


def test_without_the_flag_nothing_is_sent_and_the_plan_is_as_before(
    server: RunningSandbox, refused_manifest: Path
) -> None:
    result = invoke(
        "plan", "-f", refused_manifest, "--endpoint", server.base_url, "--format", "json"
    )
    assert "preflight" not in json.loads(result.stdout)
    assert result.exit_code == 0


def test_a_plan_without_writes_says_there_was_nothing_to_check(
    server: RunningSandbox, manifest: Path
) -> None:
    applied = invoke("apply", "-f", manifest, "--endpoint", server.base_url, "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    result = invoke(*_plan(server, manifest))
    assert lines(result.stdout) == [
        "No changes. Live exports match the manifest.",
        "Preflight: no add or edit to send as a dry run.",
    ]
    assert result.exit_code == 0
