"""The first Ctrl-C (or SIGTERM) during apply lets requests in flight finish and sends
nothing new; Ctrl-C during plan or drift, or at apply's prompt, says nothing changed.

A real ``exportctl apply`` process against a slow sandbox on a real socket
gets SIGINT (a person's Ctrl-C) or SIGTERM (a CI runner cancelling the job)
once its first change is reported; it must end by itself, say what
was sent, skip the rest, exit 1, and leave no duplicate: the next plan only
adds what was skipped.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli.support import DATAVIEWS, export_ids, invoke
from tests.conftest import SandboxFactory
from tests.http.hostile import served
from tests.render.schemas import errors

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
    assert "Apply interrupted: " in rest
    assert "Apply complete" not in rest
    assert errors.rstrip().endswith("applying again finishes the job.")
    created = export_ids(server.base_url)
    assert 1 <= len(created) < 3
    again = invoke("plan", "-f", manifest, "--endpoint", server.base_url)
    left = 3 - len(created)
    assert again.stdout.splitlines()[-1] == (
        f"Plan: {left} to add, 0 to change, 0 to replace, 0 to destroy, 0 to adopt."
    )


@contextmanager
def _listing_that_never_answers() -> Iterator[tuple[str, threading.Event]]:
    """An API that takes every request and never answers; the event is set at the first,
    so the signal is sent while the command is planning, not while Python starts."""
    asked = threading.Event()

    class Silent(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            asked.set()
            self.rfile.read(1)  # until the client hangs up

    server = ThreadingHTTPServer(("127.0.0.1", 0), Silent)
    server.daemon_threads = True
    with served(server) as base_url:
        yield base_url, asked


@pytest.mark.parametrize(
    ("command", "schema"), [("plan", "plan.schema.json"), ("drift", "drift-report.schema.json")]
)
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_a_stop_while_planning_says_nothing_changed_and_json_still_gets_a_document(
    manifest: Path, command: str, schema: str, stop: signal.Signals
) -> None:
    with _listing_that_never_answers() as (base_url, asked):
        where = ["-f", str(manifest), "--endpoint", base_url, "--format", "json"]
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", command, *where],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        assert asked.wait(30), f"{command} never asked the API"
        process.send_signal(stop)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.strip().splitlines()[-1] == "Error: Interrupted: nothing was changed."
    document = json.loads(out)
    assert errors(schema, document) == []
    assert document["error"] == "Interrupted: nothing was changed."


def test_ctrl_d_at_the_prompt_cancels_the_apply_and_says_nothing_changed(
    sandbox_factory: SandboxFactory, manifest: Path
) -> None:
    server = sandbox_factory()
    server.store.ensure_dataviews(DATAVIEWS)
    command = [sys.executable, "-m", "reconciler", "apply", "-f", str(manifest)]
    main, terminal = pty.openpty()
    with os.fdopen(main, "wb", buffering=0) as keyboard:
        keyboard.write(b"\x04")  # Ctrl-D: the end of input, at the start of a line
        done = subprocess.run(
            [*command, "--endpoint", server.base_url, "--format", "json"],
            stdin=terminal,
            capture_output=True,
            text=True,
            env=os.environ,
            timeout=60,
        )
    os.close(terminal)
    assert done.returncode == 1
    assert "Aborted." not in done.stderr
    cancelled = "Apply cancelled: only 'yes' approves. Nothing was changed."
    assert done.stderr.splitlines()[-1] == f"Error: {cancelled}"
    assert json.loads(done.stdout)["error"] == cancelled
    assert export_ids(server.base_url) == {}


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_a_stop_while_apply_still_plans_says_nothing_was_sent(
    manifest: Path, stop: signal.Signals
) -> None:
    with _listing_that_never_answers() as (base_url, asked):
        where = ["-f", str(manifest), "--endpoint", base_url, "--auto-approve"]
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", *where],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        assert asked.wait(30), "apply never asked the API"
        process.send_signal(stop)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.strip().splitlines()[-1] == (
        "Error: Apply interrupted before it sent anything: nothing was changed."
    )
