"""Sequences converge: what the server refuses is refused by validate, and a
position the server clamps plans no change (hardening item 7)."""

from __future__ import annotations

from pathlib import Path

from reconciler.manifest import check_manifest
from tests.apply.convergence import assert_converged
from tests.apply.helpers import REF, apply_now, desired, live_exports, s3
from tests.conftest import SandboxFactory


def test_a_position_beyond_the_end_is_applied_once_and_then_plans_no_change(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory()
    server.store.ensure_dataviews([REF])
    state = desired((REF, [s3("a", "a.csv"), s3("b", "b.csv", sequence=5)]))
    assert apply_now(server.base_url, state).ok
    # The server put b at the end of the two: position 2, not 5 ...
    assert {
        e.target_properties["file"]: e.sequence for e in live_exports(server.base_url, REF)
    } == {
        "a.csv": 1,
        "b.csv": 2,
    }
    assert_converged(server.base_url, state)  # ... and no plan tries to move it again


def test_an_export_not_yet_at_the_end_is_moved_there_once(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory()
    server.store.ensure_dataviews([REF])
    assert apply_now(server.base_url, desired((REF, [s3("b", "b.csv"), s3("a", "a.csv")]))).ok
    state = desired((REF, [s3("b", "b.csv", sequence=9), s3("a", "a.csv")]))
    assert apply_now(server.base_url, state).ok
    assert [e.target_properties["file"] for e in sorted(
        live_exports(server.base_url, REF), key=lambda e: e.sequence or 0
    )] == ["a.csv", "b.csv"]  # fmt: skip
    assert_converged(server.base_url, state)


def test_positions_the_server_refuses_are_refused_by_validate(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\n"
        "dataviews:\n"
        "  - {workspace_id: 1, project_id: 1, dataset_id: 123, dataview_id: 456, exports: [\n"
        "      {key: a, handler_type: s3, sequence: 0, target_properties: {file: a.csv}},\n"
        "      {key: b, handler_type: s3, sequence: 2, target_properties: {file: b.csv}},\n"
        "      {key: c, handler_type: s3, sequence: 2, target_properties: {file: c.csv}}]}\n"
    )
    state, problems = check_manifest([manifest], environ={})
    assert state is None
    assert [str(p).split(": ", 2)[1:] for p in problems] == [
        ["dataviews[0].exports[0].sequence", "must be at least 1, got 0"],
        [
            "dataviews[0].exports[2].sequence",
            f"sequence 2 is already the position of export 'b' at {manifest}:5:44; "
            "each export of a dataview needs its own position",
        ],
    ]
