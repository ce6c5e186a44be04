"""Mailgun end to end: the real CLI against the sandbox on a loopback socket.

Each test starts a fresh sandbox (one server per module, see ``conftest``)
whose exports complete after ``job_delay_ms``, and moves its clock to make
hours pass. The API key is a realistic secret, looked for in every output.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.providers.mailgun.sandbox.lists import DEFAULT_LISTS, render_csv
from tests.providers.mailgun.conftest import MailgunFactory
from tests.providers.mailgun.support import HOUR, RunningMailgun

API_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"

MANIFEST = """\
version: 1
mailgun:
  snapshots:
    - key: domains
      url: /v3/domains
      max_age: 6h
      download: out/domains.csv
    - key: bounces
      url: sandbox.example.com/bounces/
      max_age: 24h
"""


@pytest.fixture
def server(mailgun_factory: MailgunFactory) -> RunningMailgun:
    """A sandbox taking ``API_KEY``, its exports complete 10 ms after their request."""
    return mailgun_factory(api_key=API_KEY, job_delay_ms=10)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The manifest in a directory of its own, the one exportctl runs in (downloads land here)."""
    (tmp_path / "mailgun.yaml").write_text(MANIFEST, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def exportctl(server: RunningMailgun, *args: str, key: str = API_KEY) -> Result:
    """``exportctl ARGS`` with the Mailgun settings a user would export; the key never leaks."""
    env: Mapping[str, str | None] = {
        "MAILGUN_API_KEY": key,
        "MAILGUN_BASE_URL": server.root_url,
        "MAILGUN_REGION": None,
        "NO_COLOR": None,
    }
    result = CliRunner().invoke(cli, list(args), env=env)
    assert key not in result.stdout + result.stderr
    return result


def host(server: RunningMailgun) -> str:
    return server.root_url.removeprefix("http://")


def exports_by_url(server: RunningMailgun) -> Counter[str]:
    with server.http(auth=("api", API_KEY)) as http:
        return Counter(item["url"] for item in http.get("/v3/exports").json()["items"])


def test_validate_counts_the_account_and_its_exports(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "-f", "mailgun.yaml"])
    assert (result.exit_code, result.stdout) == (
        0,
        "Valid: 1 Mailgun account, 2 exports in 1 file.\n",
    )


BROKEN = """\
version: 1
mailgun:
  snapshots:
    - key: domains
      url: /v3/domains
      max_age: 25h
    - key: domains
      url: domains/
      max_age: 86401
    - key: nothing
      url: /v3/
      max_age: 6 hours
      format: csv
    - key: env
      url: ${env:EXPORTCTL_TEST_UNSET_LIST}
      max_age: 1h
"""


def test_validate_reports_every_problem_where_it_was_written(workdir: Path) -> None:
    (workdir / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["validate", "-f", "broken.yaml"], env={"EXPORTCTL_TEST_UNSET_LIST": None}
    )
    too_old = (
        "is longer than 24h: Mailgun deletes an export 24 hours after creating it, so an "
        "older one can never count as fresh. Use 24h or less."
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"broken.yaml:6:16: mailgun.snapshots[0].max_age: max_age 25h (25h) {too_old}",
        "broken.yaml:7:12: mailgun.snapshots[1].key: snapshot key 'domains' is already used "
        "at broken.yaml:4:12; keys must be unique",
        "broken.yaml:8:12: mailgun.snapshots[1].url: 'domains/' is the same URL ('domains') "
        "as snapshot 'domains' at broken.yaml:5:12; Mailgun runs one export per URL, so "
        "keep one of them",
        f"broken.yaml:9:16: mailgun.snapshots[1].max_age: max_age 86401 s (24h) {too_old}",
        "broken.yaml:11:12: mailgun.snapshots[2].url: url '/v3/' names no API list: write "
        "the partial API URL to export, e.g. /v3/domains or /v3/example.com/bounces",
        "broken.yaml:12:16: mailgun.snapshots[2].max_age: max_age '6 hours' is not a "
        "duration: write whole numbers with the units d, h, m or s, largest first (e.g. 6h, "
        "30m, 1h30m or 1d)",
        "broken.yaml:13:7: mailgun.snapshots[2].format: unknown field 'format'; expected one "
        "of: key, url, max_age, download",
        "broken.yaml:15:12: mailgun.snapshots[3].url: environment variable "
        "EXPORTCTL_TEST_UNSET_LIST is not set; set it (a value that is not a secret may "
        "also have a fallback: ${env:EXPORTCTL_TEST_UNSET_LIST:-...})",
        "Invalid: 8 errors.",
    ]


def test_validate_refuses_a_full_url_at_the_url(workdir: Path) -> None:
    """A host in the manifest would be ignored, or mangled into a path (https:/api...)."""
    (workdir / "full.yaml").write_text(
        MANIFEST.replace("/v3/domains", '"https://api.mailgun.net/v3/domains"'), encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["validate", "-f", "full.yaml"])
    assert (result.exit_code, result.stderr.splitlines()) == (
        1,
        [
            "full.yaml:5:12: mailgun.snapshots[0].url: url has a scheme or host; write the "
            "API path alone, /v3/domains: exportctl sends it to your Mailgun account's API "
            "host, which comes from MAILGUN_REGION or MAILGUN_BASE_URL, not from the manifest",
            "Invalid: 1 error.",
        ],
    )


def test_a_first_plan_runs_every_snapshot(server: RunningMailgun, workdir: Path) -> None:
    result = exportctl(server, "plan", "-f", "mailgun.yaml", "--detailed-exitcode")
    assert (result.exit_code, result.stdout.splitlines()) == (
        2,
        [
            f"Mailgun account {host(server)}",
            "    + domains (csv): no run of this request exists yet",
            '        + url: "domains"',
            '        + download: "out/domains.csv"',
            "    + bounces (csv): no run of this request exists yet",
            '        + url: "sandbox.example.com/bounces"',
            "",
            "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 0 to adopt, 2 to run.",
        ],
    )


def test_the_plan_as_json_and_markdown(server: RunningMailgun, workdir: Path) -> None:
    plan = json.loads(exportctl(server, "plan", "-f", "mailgun.yaml", "--format", "json").stdout)
    (scope,) = plan["scopes"]
    assert (scope["provider"], scope["kind"], scope["scope"]) == (
        "mailgun",
        "exports",
        {
            "address": host(server),
            "noun": "Mailgun account",
            "resource_noun": "export",
            "fields": {"host": host(server)},
        },
    )
    assert [(c["action"], c["key"], c["drift"]) for c in scope["changes"]] == [
        ("run", "domains", "stale"),
        ("run", "bounces", "stale"),
    ]
    markdown = exportctl(server, "plan", "-f", "mailgun.yaml", "--format", "markdown").stdout
    assert f"| `{host(server)}` | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 2 | 0 | 0 |" in markdown
    assert "+ domains (csv): no run of this request exists yet" in markdown


def test_apply_runs_downloads_and_then_nothing_is_left_to_do(
    server: RunningMailgun, workdir: Path
) -> None:
    applied = exportctl(server, "apply", "-f", "mailgun.yaml", "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    csv = render_csv(DEFAULT_LISTS["domains"])
    assert (workdir / "out" / "domains.csv").read_bytes() == csv
    lines = applied.stdout.splitlines()
    ran = [line for line in lines if line.startswith(f"Mailgun account {host(server)}: + ")]
    assert len(ran) == 2
    assert ran[0].endswith(f", downloaded {len(csv)} bytes to out/domains.csv [1/2]")
    assert lines[-2:] == [
        "Apply complete: 2 applied, 0 failed, 0 skipped.",
        f"  Mailgun account {host(server)}: 2 applied, 0 failed, 0 skipped",
    ]
    assert exports_by_url(server) == {"domains": 1, "sandbox.example.com/bounces": 1}
    again = exportctl(server, "plan", "-f", "mailgun.yaml", "--detailed-exitcode")
    assert (again.exit_code, again.stdout) == (0, "No changes. Live exports match the manifest.\n")
    drift = exportctl(server, "drift", "-f", "mailgun.yaml")
    assert (drift.exit_code, drift.stdout) == (
        0,
        "In sync: 1 Mailgun account matches the manifest.\n",
    )


def test_exports_go_stale_past_max_age_and_expire_after_24_hours(
    server: RunningMailgun, workdir: Path
) -> None:
    assert exportctl(server, "apply", "-f", "mailgun.yaml", "--auto-approve").exit_code == 0
    server.clock.advance(7 * HOUR)
    stale = exportctl(server, "plan", "-f", "mailgun.yaml", "--detailed-exitcode")
    assert stale.exit_code == 2
    assert "older than max_age 6h" in stale.stdout
    assert "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 0 to adopt, 1 to run." in (
        stale.stdout
    )
    server.clock.advance(18 * HOUR)  # 25 h after the exports were made: Mailgun dropped them
    drift = exportctl(server, "drift", "-f", "mailgun.yaml")
    assert drift.exit_code == 2
    assert exports_by_url(server) == {}
    assert exportctl(server, "apply", "-f", "mailgun.yaml", "--auto-approve").exit_code == 0
    assert exports_by_url(server) == {"domains": 1, "sandbox.example.com/bounces": 1}


def test_an_export_in_progress_is_waited_for_not_requested_again(
    server: RunningMailgun, workdir: Path
) -> None:
    server.set_faults(job_delay_ms=60_000)
    with server.http(auth=("api", API_KEY)) as http:
        running = http.post("/v3/exports", data={"url": "/v3/domains"}).json()["id"]
    server.set_faults(job_delay_ms=10)  # for the export apply requests of bounces
    planned = exportctl(server, "plan", "-f", "mailgun.yaml")
    waiting = planned.stdout.splitlines()[1]
    assert re.fullmatch(
        rf"    … domains \(csv, export {running}\): run {running} is processing "
        r"\(requested [01]s ago\); apply waits for it",
        waiting,
    ), waiting
    # The export completes a minute after its request: let that minute pass while
    # apply, which plans in well under a second, polls it.
    finish = threading.Timer(1.0, server.clock.advance, (61,))
    finish.start()
    try:
        applied = exportctl(server, "apply", "-f", "mailgun.yaml", "--auto-approve")
    finally:
        finish.join()
    assert applied.exit_code == 0, applied.stderr
    assert f"waited for run {running}, downloaded 110 bytes" in applied.stdout
    assert exports_by_url(server) == {"domains": 1, "sandbox.example.com/bounces": 1}


def test_a_wrong_key_is_refused_and_never_shown(server: RunningMailgun, workdir: Path) -> None:
    wrong = "key-0000wrong0000secret0000"
    result = exportctl(server, "plan", "-f", "mailgun.yaml", key=wrong)
    assert result.exit_code == 1
    assert "Mailgun rejected the API key (401)" in result.stderr
    assert "MAILGUN_API_KEY" in result.stderr


@pytest.mark.parametrize(
    "faults",
    [
        {"error_rate": 0.3},
        {"throttle_rate": 0.3, "retry_after_s": 0.05},
        {"commit_then_fail_rate": 1.0, "commit_then_fail_mode": "503"},
        {"commit_then_fail_rate": 1.0, "commit_then_fail_mode": "drop"},
    ],
    ids=["503s", "429s", "lost-503", "dropped"],
)
def test_faults_never_make_two_exports_of_one_url(
    server: RunningMailgun, workdir: Path, faults: dict[str, object]
) -> None:
    server.set_faults(**faults)
    applied = exportctl(server, "apply", "-f", "mailgun.yaml", "--auto-approve")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert (workdir / "out" / "domains.csv").read_bytes() == render_csv(DEFAULT_LISTS["domains"])
    assert exports_by_url(server) == {"domains": 1, "sandbox.example.com/bounces": 1}
    if "commit_then_fail_rate" in faults:  # every create landed, its answer did not
        assert applied.stdout.count("(the answer was lost; the listing shows it landed)") == 2
    server.set_faults(error_rate=0, throttle_rate=0, commit_then_fail_rate=0)
    again = exportctl(server, "plan", "-f", "mailgun.yaml", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout


def test_the_key_is_in_no_plan_file_and_no_debug_log(
    server: RunningMailgun, workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = base64.b64encode(f"api:{API_KEY}".encode()).decode()
    assert exportctl(server, "plan", "-f", "mailgun.yaml", "--out", "plan.json").exit_code == 0
    assert exportctl(server, "apply", "plan.json").exit_code == 0
    assert "httpcore" in caplog.text  # the requests were logged, headers and all
    for secret in (API_KEY, token):
        assert secret not in (workdir / "plan.json").read_text(encoding="utf-8")
        assert secret not in caplog.text
