"""``exportctl --timeout``: the whole command ends in time against a server that drips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.support import invoke, lines, write_manifest
from tests.http.hostile import serve_hostile
from tests.render.schemas import errors


def test_plan_against_a_dripping_server_ends_at_the_timeout_with_a_clear_message(
    tmp_path: Path,
) -> None:
    manifest = write_manifest(tmp_path)
    env = {**os.environ, "MAMMOTH_API_KEY": "k", "MAMMOTH_API_SECRET": "s"}
    env["EXPORTCTL_TEST_PG_PASSWORD"] = "pw-for-the-test"
    with serve_hostile("drip") as base_url:
        start = time.monotonic()
        command = [sys.executable, "-m", "reconciler", "--timeout", "1.5", "plan"]
        done = subprocess.run(
            [*command, "-f", str(manifest), "--endpoint", base_url],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        elapsed = time.monotonic() - start
    assert done.returncode == 1
    assert "did not finish within 1.5 s (--timeout) and stopped" in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 20  # the per-request deadline alone would be 60 s


def test_with_format_json_the_timeout_still_leaves_a_document_on_stdout_and_in_the_report(
    tmp_path: Path,
) -> None:
    manifest = write_manifest(tmp_path)
    report = tmp_path / "drift.json"
    env = {**os.environ, "MAMMOTH_API_KEY": "k", "MAMMOTH_API_SECRET": "s"}
    env["EXPORTCTL_TEST_PG_PASSWORD"] = "pw-for-the-test"
    with serve_hostile("drip") as base_url:
        command = [sys.executable, "-m", "reconciler", "--timeout", "1", "drift"]
        command += ["-f", str(manifest), "--endpoint", base_url, "--format", "json"]
        done = subprocess.run(
            [*command, "--report", str(report)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert errors("drift-report.schema.json", document) == []
    assert document["in_sync"] is False
    assert document["error"].startswith("exportctl did not finish within 1 s (--timeout)")
    assert f"Error: {document['error']}" in done.stderr
    assert json.loads(report.read_text(encoding="utf-8")) == document


@pytest.mark.parametrize("given", [["--timeout", "1"], ["--timeout=1"]])
def test_timeout_after_the_subcommand_says_where_it_goes(tmp_path: Path, given: list[str]) -> None:
    manifest = write_manifest(tmp_path)
    hint = "--timeout is an option of exportctl itself: write `exportctl --timeout 1 plan ...`"
    result = invoke("plan", *given, "-f", manifest, "--format", "json")
    assert result.exit_code == 1
    assert lines(result.stderr)[-1] == f"Error: {hint}"
    document = json.loads(result.stdout)
    assert errors("plan.schema.json", document) == []
    assert document["error"] == hint
