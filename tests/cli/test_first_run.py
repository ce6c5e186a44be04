"""The README's first command: ``exportctl plan --sandbox -f examples/exports.yaml``.

It must work in a bare shell: no MAMMOTH_* variables, no secrets exported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import invoke, lines

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "exports.yaml"

REASON = "no live export has this key or destination"
EXAMPLE_ADDS = [
    "dataview 1/1/123/456",
    f"    + monthly-sales (s3): {REASON}",
    "        + end_of_pipeline: true",
    '        + target_properties.file: "monthly_sales.csv"',
    '        + target_properties.file_type: "csv"',
    "        + target_properties.include_hidden: false",
    "        + target_properties.is_format_set: true",
    "        + target_properties.use_format: true",
    '        + trigger_type: "pipeline"',
    f"    + sales-active-customers (s3): {REASON}",
    '        + condition.status: "active"',
    "        + end_of_pipeline: true",
    '        + target_properties.file: "active_customers.json"',
    '        + target_properties.file_type: "json"',
    "        + target_properties.include_hidden: true",
    "        + target_properties.is_format_set: true",
    "        + target_properties.use_format: true",
    '        + trigger_type: "pipeline"',
    f"    + customer-summary (internal_dataset): {REASON}",
    "        + end_of_pipeline: true",
    '        + target_properties.COLUMN_MAPPING.customer_id: "id"',
    '        + target_properties.COLUMN_MAPPING.email_address: "email"',
    '        + target_properties.COLUMN_MAPPING.full_name: "name"',
    '        + target_properties.dataset_name: "customer_summary"',
    '        + trigger_type: "pipeline"',
    "",
    "dataview 1/1/124/789",
    f"    + campaigns-to-postgres (postgres): {REASON}",
    "        + end_of_pipeline: true",
    '        + target_properties.database: "analytics"',
    '        + target_properties.host: "warehouse.internal.example.com"',
    "        + target_properties.password: (sensitive)",
    "        + target_properties.port: 5432",
    '        + target_properties.table: "campaign_results"',
    '        + target_properties.username: "exportctl_writer"',
    '        + trigger_type: "schedule"',
    f"    + campaigns-to-bigquery (bigquery): {REASON}",
    '        + additional_properties.labels.env: "prod"',
    '        + additional_properties.labels.team: "marketing"',
    "        + end_of_pipeline: true",
    '        + target_properties.database: "marketing"',
    '        + target_properties.exportType: "COMBINE"',
    '        + target_properties.selected_identity: "exportctl-loader"',
    '        + target_properties.selected_profile: "acme-analytics"',
    '        + target_properties.table: "campaign_results"',
    '        + trigger_type: "schedule"',
    "",
    "dataview 1/2/310/311",
    f"    + stock-levels (redshift): {REASON}",
    "        + end_of_pipeline: false",
    "        + sequence: 1",
    '        + target_properties.database: "ops"',
    '        + target_properties.host: "redshift.internal.example.com"',
    "        + target_properties.password: (sensitive)",
    "        + target_properties.port: 5439",
    '        + target_properties.table: "stock_levels"',
    '        + target_properties.username: "exportctl_writer"',
    '        + trigger_type: "pipeline"',
    f"    + high-value-orders (s3): {REASON}",
    '        + condition.status: "shipped"',
    '        + condition.total: ">1000"',
    "        + end_of_pipeline: true",
    '        + target_properties.file: "high_value_orders.xlsx"',
    '        + target_properties.file_type: "xlsx"',
    "        + target_properties.include_hidden: false",
    "        + target_properties.is_format_set: true",
    "        + target_properties.use_format: true",
    '        + trigger_type: "pipeline"',
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
