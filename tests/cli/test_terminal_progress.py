"""Progress on a terminal while listing, during preflight and while jobs run; none in a log."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reconciler.progress import StatusLine, TerminalProgress
from tests.cli.support import DATAVIEWS, invoke, on_a_terminal
from tests.conftest import SandboxFactory
from tests.sandboxes import RunningSandbox

pytestmark = pytest.mark.usefixtures("credentials")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_status_line_is_drawn_on_a_terminal_only() -> None:
    screen, log = _Terminal(), io.StringIO()
    for stream in (screen, log):
        status = StatusLine(stream)
        status.show("Listing... 1/2 dataviews")
        status.close()
    assert screen.getvalue() == "\r\x1b[KListing... 1/2 dataviews\r\x1b[K"
    assert log.getvalue() == ""


def test_waiting_on_jobs_redraws_the_summary_with_the_count_and_time() -> None:
    """Before the first change finishes the total is already known: never "0/0 done"."""
    screen = _Terminal()
    progress = TerminalProgress(screen)
    progress.started(7)
    progress.waiting(3, 40.2)
    assert screen.getvalue() == "\r\x1b[KApplying... 0/7 done; still waiting on 3 jobs, 40 s"


def test_a_terminal_sees_listing_preflight_and_job_progress(
    sandbox_factory: SandboxFactory, manifest: Path
) -> None:
    server: RunningSandbox = sandbox_factory(job_rate=1.0, job_delay_ms=800)
    server.store.ensure_dataviews(DATAVIEWS)
    where = ["-f", str(manifest), "--endpoint", server.base_url]
    planned = on_a_terminal(["plan", *where, "--preflight"], stderr=True)
    assert "Listing... 2/2 dataviews" in planned
    assert "Preflight: 3 dry runs (validate_only) sent, waiting for the API..." in planned
    applied = on_a_terminal(["apply", *where, "--auto-approve"], stderr=True)
    assert "/3 done; still waiting on " in applied
    assert "0/0 done" not in applied


def test_a_log_gets_no_status_lines(server: RunningSandbox, manifest: Path) -> None:
    result = invoke("plan", "-f", manifest, "--endpoint", server.base_url, "--preflight")
    assert "Listing..." not in result.stdout + result.stderr
    assert "\x1b[K" not in result.stdout + result.stderr
