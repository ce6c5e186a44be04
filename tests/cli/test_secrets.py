"""A secret from ``${env:...}`` reaches no output, plan file, drift report or error.

The secret is rotated after an apply, so every form has a secret change to
show and must show that it changed without showing either value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import SECRET, SECRET_VARIABLE, all_output, export_ids, invoke
from tests.sandboxes import RunningSandbox

pytestmark = pytest.mark.usefixtures("credentials")

ROTATED = "pg-Rotated-1a2b3c4d"


@pytest.fixture
def rotated(server: RunningSandbox, manifest: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    applied = invoke("apply", "-f", manifest, "--endpoint", server.base_url, "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    monkeypatch.setenv(SECRET_VARIABLE, ROTATED)
    return manifest


def _assert_secret_free(text: str) -> None:
    assert SECRET not in text
    assert ROTATED not in text


@pytest.mark.parametrize("command", ["plan", "drift"])
@pytest.mark.parametrize("output_format", ["text", "json", "markdown"])
def test_no_output_form_shows_the_secret(
    server: RunningSandbox, rotated: Path, command: str, output_format: str
) -> None:
    result = invoke(
        command, "-f", rotated, "--endpoint", server.base_url, "--format", output_format
    )
    assert result.exit_code == (2 if command == "drift" else 0)
    assert "warehouse" in result.stdout  # the rotated secret is a change worth showing
    _assert_secret_free(all_output(result))


def test_text_plan_says_the_secret_changed(server: RunningSandbox, rotated: Path) -> None:
    result = invoke("plan", "-f", rotated, "--endpoint", server.base_url)
    export_id = export_ids(server.base_url)["warehouse"]
    assert result.stdout.splitlines() == [
        "dataview 1/1/123/456",
        f"    ~ warehouse (postgres, export {export_id}): a secret value changed since the "
        "last apply",
        "        ~ target_properties.password: (sensitive) -> (sensitive)",
        "      # (1 unchanged export hidden)",
        "",
        "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy, 0 to adopt.",
    ]


def test_no_saved_file_holds_the_secret(
    server: RunningSandbox, rotated: Path, tmp_path: Path
) -> None:
    planfile, report = tmp_path / "exportctl.plan", tmp_path / "drift.json"
    invoke("plan", "-f", rotated, "--endpoint", server.base_url, "--out", str(planfile))
    invoke("drift", "-f", rotated, "--endpoint", server.base_url, "--report", str(report))
    shown = invoke("show", planfile)
    assert "secrets_hash" in planfile.read_text()  # the rotation is recorded, as a hash
    for text in (planfile.read_text(), report.read_text(), all_output(shown)):
        _assert_secret_free(text)


def test_a_secret_in_an_api_error_is_not_echoed(
    server: RunningSandbox, rotated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMMOTH_API_SECRET", ROTATED)  # a secret where a credential goes
    result = invoke("plan", "-f", rotated, "--endpoint", server.base_url)
    assert result.exit_code == 1
    _assert_secret_free(all_output(result))
