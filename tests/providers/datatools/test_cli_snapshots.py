"""Export jobs as snapshots through the real CLI: run, fresh, wait, stale, failed, keep.

Over a socket against the sandbox, whose clock the tests move to age jobs
as the server does; and once through the embedded ``--sandbox DB``.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.providers.datatools.cli_support import (
    EMPTY,
    embedded_cli,
    jobs,
    output,
    snapshot,
    socket_cli,
    template,
)
from tests.providers.datatools.conftest import SiteFactory
from tests.providers.datatools.support import Site


def test_run_download_fresh_then_stale_and_keep(site: Site, tmp_path: Path) -> None:
    cli = socket_cli(site, tmp_path)
    target = tmp_path / "out" / "sales.csv"
    cli.write(snapshots=[snapshot("sales", keep=1, download=str(target), filters={"limit": 5})])
    plan = cli("plan")
    assert plan.stdout.splitlines()[:2] == [
        "data-tools user sandbox",
        "    + sales (csv): no run of this request exists yet",
    ]
    result = cli.apply()
    assert result.exit_code == 0, output(result)
    [first] = jobs(site)
    assert first.status == "completed"
    assert f"ran as run {first.id}" in result.stdout
    assert target.read_text().count("\n") == 6  # a header and the 5 rows asked for
    again = cli("plan", "--detailed-exitcode")
    assert again.exit_code == 0, output(again)
    assert "No changes." in again.stdout
    [fresh] = [
        c
        for s in json.loads(cli("plan", "--format", "json").stdout)["scopes"]
        for c in s["changes"]
    ]
    assert (fresh["action"], fresh["id"]) == ("fresh", first.id)
    assert cli("drift").exit_code == 0

    site.advance(2 * 3600)  # older than max_age 1h, by the server's clock
    drift = cli("drift")
    assert drift.exit_code == 2, output(drift)
    assert "older than max_age 1h" in drift.stdout
    plan = cli("plan", "--format", "json")
    actions = [c["action"] for s in json.loads(plan.stdout)["scopes"] for c in s["changes"]]
    assert actions == ["run", "delete"]  # keep: 1 counts the run about to be made
    assert cli.apply().exit_code == 0
    [second] = jobs(site)
    assert second.id != first.id
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def test_a_failed_job_is_reported_and_replaced_by_a_new_one(site: Site, tmp_path: Path) -> None:
    cli = socket_cli(site, tmp_path)
    cli.write(snapshots=[snapshot("empty", EMPTY)])
    result = cli.apply()
    assert result.exit_code == 1, output(result)
    assert "No data available for export" in output(result)
    assert "Traceback" not in output(result)
    drift = cli("drift")
    assert drift.exit_code == 2
    assert "failed: No data available for export (the datasource has no rows)" in drift.stdout
    plan = cli("plan")
    assert "apply starts a new one" in plan.stdout
    assert cli.apply().exit_code == 1
    listed = jobs(site)
    assert [j.status for j in listed] == ["failed", "failed"]  # a new job, never a retry
    assert len({j.id for j in listed}) == 2


def test_a_running_job_is_waited_for_not_duplicated(
    site_factory: SiteFactory, tmp_path: Path
) -> None:
    site = site_factory(job_delay_ms=600_000)
    cli = socket_cli(site, tmp_path)
    cli.write(snapshots=[snapshot("sales")])
    started = cli("apply", "--auto-approve", "--job-timeout", "1")
    [job] = jobs(site)
    plan = cli("plan")
    assert f"… sales (csv, export job {job.id}): run {job.id} is pending" in plan.stdout, output(
        plan
    )
    site.advance(600)
    result = cli.apply()
    assert result.exit_code == 0, output(result) + output(started)
    assert [j.id for j in jobs(site)] == [job.id]


def test_the_embedded_sandbox_needs_no_credentials(tmp_path: Path) -> None:
    cli = embedded_cli(tmp_path)
    cli.write(
        [template("weekly", "Weekly")],
        [snapshot("other", "6b000000-0000-4000-8000-00000000000a", format="JSON")],
    )
    assert cli.validate().exit_code == 0
    result = cli.apply()
    assert result.exit_code == 0, output(result)
    assert "created as template" in result.stdout and "ran as run" in result.stdout
    plan = cli("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, output(plan)
    markdown = cli("plan", "--format", "markdown")
    assert markdown.exit_code == 0
    assert "No changes." in markdown.stdout and "| fresh | 1 |" in markdown.stdout
    assert (tmp_path / "sandbox-datatools.db").exists()


def test_a_job_whose_file_expired_is_run_again(site: Site, tmp_path: Path) -> None:
    cli = socket_cli(site, tmp_path)
    cli.write(snapshots=[snapshot("sales", max_age="30d")])
    assert cli.apply().exit_code == 0
    site.advance(8 * 86400)  # files last 7 days: within max_age, but gone
    plan = cli("plan")
    assert "+ sales (csv): every earlier run has expired on the server" in plan.stdout, plan.stdout
    assert cli("drift").exit_code == 2
    assert cli.apply().exit_code == 0
    assert len(jobs(site)) == 2
    assert cli("plan", "--detailed-exitcode").exit_code == 0
