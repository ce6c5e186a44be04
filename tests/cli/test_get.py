"""``exportctl get``: live exports, managed or not, over the sandbox on a real socket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.apply.helpers import REF2
from tests.cli.support import add_by_hand, apply_all, export_ids, hand_edit, invoke, lines
from tests.render.schemas import errors
from tests.sandboxes import RunningSandbox

pytestmark = pytest.mark.usefixtures("credentials")


@pytest.fixture
def live(server: RunningSandbox, manifest: Path) -> dict[str, int]:
    """Applied; then `sales` edited by hand and an unmarked export added to 457."""
    apply_all(server.base_url, manifest)
    ids = export_ids(server.base_url)
    hand_edit(server.base_url, ids["sales"], {"trigger_type": "pipeline"})
    add_by_hand(server.base_url, REF2, "theirs.csv")
    return ids


def _get(server: RunningSandbox, manifest: Path, *extra: str) -> list[str]:
    return ["get", "-f", str(manifest), "--endpoint", server.base_url, *extra]


def test_the_table_lists_every_live_export_with_its_state(
    server: RunningSandbox, manifest: Path, live: dict[str, int]
) -> None:
    result = invoke(*_get(server, manifest))
    assert result.exit_code == 0, result.stderr
    rows = sorted(lines(result.stdout)[1:])
    assert lines(result.stdout)[0].split() == ["DATAVIEW", "ID", "KEY", "TYPE", "MANAGED", "STATE"]
    assert [row.split() for row in rows] == sorted(
        [
            ["1/1/123/456", str(live["sales"]), "sales", "s3", "yes", "differs"],
            ["1/1/123/456", str(live["warehouse"]), "warehouse", "postgres", "yes", "in", "sync"],
            ["1/1/123/457", str(live["summary"]), "summary", "s3", "yes", "in", "sync"],
            ["1/1/123/457", "4", "s3:theirs.csv", "s3", "no", "unmanaged"],
        ]
    )


def test_json_follows_its_schema_and_narrows_like_plan(
    server: RunningSandbox, manifest: Path, live: dict[str, int]
) -> None:
    result = invoke(*_get(server, manifest, "-o", "json", "--target", "dataview=457"))
    document = json.loads(result.stdout)
    assert errors("inventory.schema.json", document) == []
    assert [(r["key"], r["managed"], r["state"]) for r in document["resources"]] == [
        ("summary", True, "in sync"),
        ("s3:theirs.csv", False, "unmanaged"),
    ]


def test_an_empty_dataview_says_so(server: RunningSandbox, manifest: Path) -> None:
    result = invoke(*_get(server, manifest))
    assert (result.exit_code, result.stdout) == (0, "No live resources in the selected scopes.\n")
