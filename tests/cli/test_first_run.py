"""The README's first command: ``exportctl plan --sandbox -f examples/exports.yaml``.

It must work in a bare shell: no MAMMOTH_* variables, no secrets exported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import invoke, lines

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "exports.yaml"

EXAMPLE_ADDS = [
    "dataview 1/1/123/456",
    "    + monthly-sales (s3): not found among the live exports",
    "    + sales-active-customers (s3): not found among the live exports",
    "    + customer-summary (internal_dataset): not found among the live exports",
    "",
    "dataview 1/1/124/789",
    "    + campaigns-to-postgres (postgres): not found among the live exports",
    "    + campaigns-to-bigquery (bigquery): not found among the live exports",
    "",
    "dataview 1/2/310/311",
    "    + stock-levels (redshift): not found among the live exports",
    "    + high-value-orders (s3): not found among the live exports",
    "",
    "Plan: 7 to add, 0 to change, 0 to replace, 0 to destroy, 0 to adopt.",
]


@pytest.fixture
def bare_shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("MAMMOTH_API_KEY", "MAMMOTH_API_SECRET", "MAMMOTH_BASE_URL", "PG_WRITER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_plan_on_a_new_sandbox_database_shows_the_adds(bare_shell: Path) -> None:
    result = invoke("plan", "--sandbox", bare_shell / "first.db", "-f", EXAMPLE)
    assert (result.exit_code, lines(result.stdout), result.stderr) == (0, EXAMPLE_ADDS, "")


def test_bare_sandbox_flag_uses_the_default_database(bare_shell: Path) -> None:
    result = invoke("plan", "--sandbox", "-f", EXAMPLE, "--detailed-exitcode")
    assert (result.exit_code, lines(result.stdout)) == (2, EXAMPLE_ADDS)
    assert (bare_shell / ".exportctl" / "sandbox.db").is_file()


def test_apply_then_plan_and_drift_are_clean_in_the_sandbox(bare_shell: Path) -> None:
    db = str(bare_shell / "first.db")
    applied = invoke("apply", "--sandbox", db, "-f", EXAMPLE, "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    planned = invoke("plan", "--sandbox", db, "-f", EXAMPLE, "--detailed-exitcode")
    drifted = invoke("drift", "--sandbox", db, "-f", EXAMPLE)
    assert (planned.exit_code, lines(planned.stdout)) == (
        0,
        ["No changes. Live exports match the manifest."],
    )
    assert (drifted.exit_code, lines(drifted.stdout)) == (
        0,
        ["In sync: 3 dataviews match the manifest."],
    )
