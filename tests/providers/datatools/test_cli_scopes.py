"""One user's templates and snapshots, as every command counts and heads them.

They are two scopes (two kinds) at one address, so a count of scopes would
say "2 data-tools users" and both would be headed "data-tools user sandbox":
the manifest names one user, and a reader must tell the two blocks apart.
"""

from __future__ import annotations

from pathlib import Path

from tests.providers.datatools.cli_support import Cli, embedded_cli, output, snapshot, template


def _both(tmp_path: Path) -> Cli:
    cli = embedded_cli(tmp_path)
    cli.write([template("weekly", "Weekly")], [snapshot("sales", filters={"limit": 3})])
    return cli


def test_validate_counts_one_user(tmp_path: Path) -> None:
    result = _both(tmp_path).validate()
    assert result.exit_code == 0, output(result)
    assert result.stdout == "Valid: 1 data-tools user, 1 template, 1 export job in 1 file.\n"


def test_plan_heads_each_kind_by_its_name(tmp_path: Path) -> None:
    plan = _both(tmp_path)("plan")
    assert plan.exit_code == 0, output(plan)
    headings = [line for line in plan.stdout.splitlines() if line.startswith("data-tools")]
    assert headings == [
        "data-tools user sandbox (templates)",
        "data-tools user sandbox (snapshots)",
    ]
    markdown = _both(tmp_path)("plan", "--format", "markdown").stdout
    assert "| `sandbox` (templates) | 1 |" in markdown
    assert "<summary><code>sandbox</code> (snapshots): 1 to run</summary>" in markdown


def test_apply_summary_and_drift_tell_the_kinds_apart_and_count_one_user(tmp_path: Path) -> None:
    cli = _both(tmp_path)
    drift = cli("drift")
    assert drift.exit_code == 2, output(drift)
    assert drift.stdout.splitlines()[0] == (
        "Drift detected in 1 data-tools user: sandbox (1 missing, 1 stale)."
    )
    assert "data-tools user sandbox (snapshots)" in drift.stdout.splitlines()
    result = cli.apply()
    assert result.exit_code == 0, output(result)
    assert result.stdout.splitlines()[-2:] == [
        "  data-tools user sandbox (templates): 1 applied, 0 failed, 0 skipped",
        "  data-tools user sandbox (snapshots): 1 applied, 0 failed, 0 skipped",
    ]
    again = cli("drift")
    assert again.exit_code == 0, output(again)
    assert again.stdout == "In sync: 1 data-tools user matches the manifest.\n"


def test_one_kind_alone_keeps_its_plain_heading(tmp_path: Path) -> None:
    cli = embedded_cli(tmp_path)
    cli.write([template("weekly", "Weekly")])
    assert cli("plan").stdout.splitlines()[0] == "data-tools user sandbox"
