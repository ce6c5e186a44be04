"""The first Ctrl-C (or SIGTERM) during apply lets requests in flight finish and sends
nothing new.

A real ``exportctl apply`` process against a slow sandbox on a real socket
gets SIGINT (a person's Ctrl-C) or SIGTERM (a CI runner cancelling the job)
once its first change is reported; it must end by itself, say what
was sent, skip the rest, exit 1, and leave no duplicate: the next plan only
adds what was skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.support import DATAVIEWS, export_ids, invoke
from tests.conftest import SandboxFactory

pytestmark = pytest.mark.usefixtures("credentials")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_the_first_stop_signal_finishes_what_is_in_flight_and_sends_nothing_new(
    sandbox_factory: SandboxFactory, manifest: Path, stop: signal.Signals
) -> None:
    server = sandbox_factory(latency_ms=150)
    server.store.ensure_dataviews(DATAVIEWS)
    command = [sys.executable, "-m", "reconciler", "apply", "-f", str(manifest)]
    command += ["--endpoint", server.base_url, "--auto-approve", "--parallelism", "1"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ
    )
    assert process.stdout is not None
    first = ""
    while " created as export " not in first:  # the plan comes first, then progress
        first = process.stdout.readline()
        assert first, "apply ended before its first change"
    process.send_signal(stop)
    rest, errors = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "Interrupted: the requests in flight will finish, nothing new is sent." in errors
    assert "skipped: interrupted (Ctrl-C or SIGTERM) before it was sent" in rest
    assert errors.rstrip().endswith("applying again finishes the job.")
    created = export_ids(server.base_url)
    assert 1 <= len(created) < 3
    again = invoke("plan", "-f", manifest, "--endpoint", server.base_url)
    left = 3 - len(created)
    assert again.stdout.splitlines()[-1] == (
        f"Plan: {left} to add, 0 to change, 0 to replace, 0 to destroy, 0 to adopt."
    )
