"""The CLI under trouble: 503s, 429s, lost answers, sessions ending, a wrong password.

Each apply must end with what the manifest asks and nothing twice (no
duplicate template, no second job), and no output, plan file or log may
show the password.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.datatools.sandbox.app import create_app, sandbox_service
from reconciler.providers.datatools.sandbox.knobs import DatatoolsKnobs
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.server import serve_app_in_thread
from tests.providers.datatools.cli_support import (
    jobs,
    output,
    own_templates,
    snapshot,
    socket_cli,
    template,
)
from tests.providers.datatools.conftest import SiteFactory
from tests.providers.datatools.support import USER, Site

PASSWORD = "dt-Pass-7c1e9b0a"  # distinctive, so any leak of it is found
ENTRIES = [template("a", "Alpha"), template("b", "Beta", configuration={"format": "json"})]


def environ() -> dict[str, str]:
    return {"DATATOOLS_USERNAME": USER, "DATATOOLS_PASSWORD": PASSWORD}


@pytest.mark.parametrize(
    "faults",
    [
        {"error_rate": 0.3, "throttle_rate": 0.3, "retry_after_s": 0, "seed": 3},
        {"commit_then_fail_every": 2},
        {"commit_then_fail_every": 2, "commit_then_fail_mode": "drop"},
    ],
    ids=["503-and-429", "lost-503", "lost-dropped"],
)
def test_trouble_never_duplicates_and_ends_in_sync(
    site_factory: SiteFactory, tmp_path: Path, faults: dict[str, Any]
) -> None:
    site = site_factory(**faults)
    cli = socket_cli(site, tmp_path)
    cli.write(ENTRIES, [snapshot("sales")])
    result = cli.apply()
    assert result.exit_code == 0, output(result)
    if "commit_then_fail_every" in faults:
        assert "(the answer was lost; the listing shows it landed)" in result.stdout
    site.set_faults(error_rate=0, throttle_rate=0, commit_then_fail_every=0)
    again = cli("plan", "--detailed-exitcode")
    assert again.exit_code == 0, output(again)
    assert sorted(t.name for t in own_templates(site)) == ["Alpha", "Beta"]
    assert len(jobs(site)) == 1


def test_sessions_that_end_mid_apply_are_renewed(site_factory: SiteFactory, tmp_path: Path) -> None:
    site = site_factory(knobs=DatatoolsKnobs(session_ttl_s=0.3), latency_ms=100)
    cli = socket_cli(site, tmp_path)
    cli.write([*ENTRIES, template("c", "Gamma")])
    result = cli.apply()
    assert result.exit_code == 0, output(result)
    assert sorted(t.name for t in own_templates(site)) == ["Alpha", "Beta", "Gamma"]
    assert site.service.end_sessions() > 1  # the apply logged in again, more than once


def test_a_wrong_password_is_a_clear_error_showing_no_password(
    site_factory: SiteFactory, tmp_path: Path
) -> None:
    site = site_factory()
    wrong = "wrong-Pass-55aa"
    cli = socket_cli(site, tmp_path, wrong)
    cli.write(ENTRIES)
    for result in (cli("plan"), cli.apply(), cli("drift")):
        assert result.exit_code == 1
        shown = output(result)
        assert "Traceback" not in shown
        assert "DATATOOLS_USERNAME" in shown or "log in" in shown, shown
        assert wrong not in shown
    assert own_templates(site) == []


def test_the_password_is_in_no_output_plan_file_or_log(
    site_factory: SiteFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    site = site_factory(environ=environ())
    cli = socket_cli(site, tmp_path, PASSWORD)
    cli.write(ENTRIES, [snapshot("sales")])
    plan_file = tmp_path / "saved.plan"
    shown = [cli("plan", "--out", str(plan_file)), cli("plan", "--format", "json")]
    shown += [cli.raw("apply", "--auto-approve", str(plan_file)), cli("drift", "--format", "json")]
    assert [r.exit_code for r in shown] == [0, 0, 0, 0], output(shown[2])
    texts = [output(r) for r in shown] + [plan_file.read_text(), caplog.text]
    assert [PASSWORD in text for text in texts] == [False] * len(texts)


def test_a_csrf_refusal_behind_a_proxy_is_explained(tmp_path: Path) -> None:
    """A TLS-terminating proxy that rewrites the host: Django's Referer check refuses."""
    app = create_app(tmp_path / "site.db", environ={})

    async def proxied(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            scope = {**scope, "scheme": "https", "headers": [*headers, (b"host", b"internal")]}
        await app(scope, receive, send)

    try:
        with serve_app_in_thread(proxied, date_header=False) as root:
            cli = socket_cli(Site(app, root, SandboxClock()), tmp_path)
            cli.write(ENTRIES)
            result = cli.apply()
        listed = sandbox_service(app).list_templates(USER, {}).body["data"]["templates"]
        assert [t for t in listed if t["user"] == USER] == []  # nothing half-done
    finally:
        sandbox_service(app).store.close()
    assert result.exit_code == 1
    shown = output(result)
    assert "its CSRF check failed" in shown and "CSRF_TRUSTED_ORIGINS" in shown, shown
    assert "Traceback" not in shown
