"""The manifest checked in a forked child (``cli.load_aside``): same outcome, any way it goes.

These tests call ``load_aside`` in the test process itself, which has no
other thread (no server here), so the child is really forked; a test that
needs the fallback makes the child fail for real, in the child.
"""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import load_aside
from reconciler.cli.session import load_desired
from reconciler.errors import ManifestError
from reconciler.manifest.loader import guess_scopes
from reconciler.model import DesiredState, Scope
from reconciler.providers.mammoth.kind import EXPORTS
from reconciler.providers.mammoth.manifest import DataviewsLoader
from tests.cli.support import MANIFEST, SECRET, SECRET_VARIABLE, write_manifest

DATATOOLS_WITH_A_WARNING = """\
version: 1
datatools:
  templates:
    - key: weekly
      name: Weekly
      template_type: user
      configuration:
        format: csv
        filters: {include_headers: true}
"""


@pytest.fixture(autouse=True)
def alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """No other thread, so ``load_aside`` forks; a secret for the manifest's ``${env:}``."""
    assert threading.active_count() == 1, threading.enumerate()
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)


def _aside(files: list[str], targets: tuple[str, ...] = ()) -> tuple[DesiredState, list[Scope]]:
    heard: list[Scope] = []
    desired = asyncio.run(load_aside.load_aside(files, targets, (), heard.extend))
    return desired, heard


def _never_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def fell_back(*args: Any) -> DesiredState:
        raise AssertionError("the manifest was checked in this process")

    monkeypatch.setattr(load_aside, "load_desired", fell_back)


def test_the_child_checks_the_manifest_and_the_state_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = str(write_manifest(tmp_path))
    expected = load_desired([manifest], (), ())
    _never_in_this_process(monkeypatch)
    desired, heard = _aside([manifest])
    assert desired == expected
    assert all(spec.kind is EXPORTS for spec in desired.scopes)  # the singleton, not a copy
    assert [str(scope) for scope in heard] == ["1/1/123/456", "1/1/123/457"] * 2  # guessed, parsed


def test_selectors_narrow_the_state_from_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = str(write_manifest(tmp_path))
    _never_in_this_process(monkeypatch)
    desired, _ = _aside([manifest], ("dataview=457",))
    assert [str(spec.scope) for spec in desired.scopes] == ["1/1/123/457"]


def test_every_problem_the_child_finds_is_reported_with_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = str(
        write_manifest(tmp_path, MANIFEST.replace("handler_type: s3", "handler_type: s4"))
    )
    with pytest.raises(ManifestError) as in_process:
        load_desired([manifest], (), ())
    _never_in_this_process(monkeypatch)
    with pytest.raises(ManifestError) as aside:
        _aside([manifest])
    assert aside.value.diagnostics == in_process.value.diagnostics
    assert f"{manifest}:10:23: dataviews[0].exports[0].handler_type: " in aside.value.message


def test_the_warnings_of_a_valid_manifest_are_shown_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = str(write_manifest(tmp_path, DATATOOLS_WITH_A_WARNING))
    _never_in_this_process(monkeypatch)
    _aside([manifest])
    assert (
        f"{manifest}:9:19: datatools.templates[0].configuration.filters.include_headers: warning:"
        in (capsys.readouterr().err)
    )


def test_standard_input_is_read_here_once_and_checked_in_the_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(MANIFEST.encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    _never_in_this_process(monkeypatch)
    desired, _ = _aside(["-"])
    assert [str(spec.scope) for spec in desired.scopes] == ["1/1/123/456", "1/1/123/457"]
    assert desired.sources == ("<stdin>",)


def test_a_child_that_cannot_send_its_result_leaves_the_check_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = str(write_manifest(tmp_path))
    expected = load_desired([manifest], (), ())
    real_encode = load_aside._encode

    def encode_only_the_scopes(message: tuple[str, Any]) -> bytes:
        if message[0] != "ahead":  # runs in the child, which then ends with status 1
            raise TypeError("cannot pickle this")
        return real_encode(message)

    monkeypatch.setattr(load_aside, "_encode", encode_only_the_scopes)
    desired, heard = _aside([manifest])
    assert desired == expected
    assert len(heard) == 3 * len(expected.scopes)  # guessed, from the child, from the fallback


def test_with_another_thread_running_nothing_is_forked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = str(write_manifest(tmp_path))

    def no_fork() -> int:
        raise AssertionError("forked beside another thread")

    monkeypatch.setattr(load_aside.os, "fork", no_fork)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        desired, _ = _aside([manifest])
    finally:
        stop.set()
        other.join()
    assert desired == load_desired([manifest], (), ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "  - workspace_id: 1\n    project_id: 2\n    dataset_id: 3\n    dataview_id: 4\n",
            ["1/2/3/4"],
        ),
        ("  - {dataview_id: 4, dataset_id: 3, workspace_id: 1, project_id: 2}\n", ["1/2/3/4"]),
        ("  # - {workspace_id: 9, project_id: 9, dataset_id: 9, dataview_id: 9}\n", []),
        ("  - {workspace_id: 1, project_id: 2, dataset_id: 3, my_dataview_id: 4}\n", []),
        ("  - {workspace_id: 1, project_id: 2, workspace_id: 5, dataset_id: 3}\n", []),
        ("  - {workspace_id: &w 1, project_id: 2, dataset_id: 3, dataview_id: 4}\n", []),
    ],
    ids=["block", "flow-any-order", "comment", "longer-key", "repeated", "anchor"],
)
def test_the_dataviews_guessed_from_the_text(text: str, expected: list[str]) -> None:
    guessed = DataviewsLoader().scopes_in_text(f"dataviews:\n{text}".encode())
    assert [scope.address for scope in guessed] == expected


def test_only_the_providers_whose_section_starts_a_line_are_asked(tmp_path: Path) -> None:
    quoted = tmp_path / "quoted.yaml"
    quoted.write_text("version: 1\nnote: 'dataviews: workspace_id: 1 ...'\n")
    assert guess_scopes([str(quoted)]) == []
    assert [s.address for s in guess_scopes([str(write_manifest(tmp_path))])] == [
        "1/1/123/456",
        "1/1/123/457",
    ]
