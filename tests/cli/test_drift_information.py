"""``unmanaged: information``: a dataview others add exports to by hand stays green.

Over the sandbox on a real socket: the unmanaged export is listed but is not
drift; drift of a managed export of the same dataview still is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.apply.helpers import REF2
from tests.cli.support import (
    MANIFEST,
    add_by_hand,
    apply_all,
    export_ids,
    hand_edit,
    invoke,
    lines,
    write_manifest,
)
from tests.render.schemas import errors
from tests.sandboxes import RunningSandbox

pytestmark = pytest.mark.usefixtures("credentials")

# The second dataview (457) is where another team adds exports by hand.
SHARED = MANIFEST.replace(
    "    dataview_id: 457\n", "    dataview_id: 457\n    prune: none\n    unmanaged: information\n"
)
LISTED = [
    "Not drift: 1 unmanaged export where the manifest says `unmanaged: information`.",
    "  ? 1/1/123/457 s3:theirs.csv (s3, export 4): not managed by exportctl and matches "
    "nothing in the manifest",
]


@pytest.fixture
def shared(server: RunningSandbox, tmp_path: Path) -> Path:
    """Applied, then another team's export added by hand to dataview 457."""
    manifest = write_manifest(tmp_path, SHARED)
    apply_all(server.base_url, manifest)
    add_by_hand(server.base_url, REF2, "theirs.csv")
    return manifest


def _drift(server: RunningSandbox, manifest: Path, *extra: str) -> list[str]:
    return ["drift", "-f", str(manifest), "--endpoint", server.base_url, *extra]


def test_an_unmanaged_export_there_is_listed_but_drift_stays_green(
    server: RunningSandbox, shared: Path
) -> None:
    result = invoke(*_drift(server, shared))
    assert lines(result.stdout) == ["In sync: 2 dataviews match the manifest.", "", *LISTED]
    assert result.exit_code == 0


def test_the_same_export_is_drift_without_the_setting(server: RunningSandbox, shared: Path) -> None:
    shared.write_text(SHARED.replace("    unmanaged: information\n", ""), encoding="utf-8")
    result = invoke(*_drift(server, shared))
    assert result.exit_code == 2
    assert "  unmanaged:" in lines(result.stdout)


def test_drift_of_a_managed_export_there_still_fails(server: RunningSandbox, shared: Path) -> None:
    hand_edit_457 = export_ids(server.base_url)["summary"]
    hand_edit(server.base_url, hand_edit_457, {"trigger_type": "pipeline"}, ref=REF2)
    result = invoke(*_drift(server, shared, "--format", "json"))
    report = json.loads(result.stdout)
    assert errors("drift-report.schema.json", report) == []
    assert result.exit_code == 2
    scope = report["scopes"][1]
    assert (scope["in_sync"], [e["key"] for e in scope["changed_by_hand"]]) == (False, ["summary"])
    assert [e["key"] for e in scope["information"]] == ["s3:theirs.csv"]
    assert (report["counts"]["unmanaged"], report["counts"]["information"]) == (0, 1)


def test_the_plan_still_shows_it_and_apply_leaves_it_alone(
    server: RunningSandbox, shared: Path
) -> None:
    result = invoke("plan", "-f", shared, "--endpoint", server.base_url, "--format", "json")
    scope = json.loads(result.stdout)["scopes"][1]
    assert scope["unmanaged"] == "information"
    assert [c["action"] for c in scope["changes"]] == ["no-op", "unmanaged"]


def test_a_word_other_than_drift_or_information_is_refused_where_it_is(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, SHARED.replace("unmanaged: information", "unmanaged: ok"))
    result = invoke("validate", "-f", manifest)
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        f'{manifest}:25:16: dataviews[1].unmanaged: expected one of drift, information; got "ok"',
        "Invalid: 1 error.",
    ]
