"""``plan`` lists the dataviews while the manifest is still being checked."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import ahead, load_aside
from reconciler.cli.session import Planned, load_desired, open_for, plan_live
from reconciler.model import DesiredState, LiveScope, Scope
from reconciler.plan import Plan
from reconciler.providers.base import Connection
from reconciler.providers.mammoth.provider import MammothProvider
from tests.cli.support import MANIFEST, SECRET, SECRET_VARIABLE, invoke, write_manifest
from tests.sandboxes import RunningSandbox

pytestmark = pytest.mark.usefixtures("credentials")


def _plan_ahead(server: RunningSandbox, manifest: Path) -> Planned:
    connection = Connection(endpoint=server.base_url)
    return asyncio.run(ahead.load_and_plan_ahead([str(manifest)], (), (), connection))


def _plan_after_loading(server: RunningSandbox, manifest: Path) -> Plan:
    desired = load_desired([str(manifest)], (), ())

    async def run() -> Plan:
        async with open_for(desired, server.base_url, None, 8) as providers:
            return await plan_live(providers, desired, (), ())

    return asyncio.run(run())


def _after_each_listing(monkeypatch: pytest.MonkeyPatch, call: Callable[[Scope], object]) -> None:
    """Have ``call`` told of each dataview Mammoth's provider has listed."""
    real_list = MammothProvider.list

    async def list_and_tell(self: MammothProvider, scope: Scope, **options: Any) -> LiveScope:
        live = await real_list(self, scope, **options)
        call(scope)
        return live

    monkeypatch.setattr(MammothProvider, "list", list_and_tell)


def _load_waiting_for_a_listing(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Have the manifest's load, once done, wait for a first listing before it
    returns; the list says whether one came while it waited."""
    listed = threading.Event()
    _after_each_listing(monkeypatch, lambda _: listed.set())
    waited: list[bool] = []

    def load_then_wait_for_a_listing(*args: Any) -> DesiredState:
        desired = load_desired(*args)
        waited.append(listed.wait(timeout=10))  # the loader's thread has not returned yet
        return desired

    # The server's thread keeps the check in this process (``load_aside``).
    monkeypatch.setattr(load_aside, "load_desired", load_then_wait_for_a_listing)
    return waited


def test_a_dataview_is_listed_before_the_manifest_has_loaded(
    server: RunningSandbox, manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waited = _load_waiting_for_a_listing(monkeypatch)
    plan = _plan_ahead(server, manifest).plan
    assert waited == [True]
    assert plan == _plan_after_loading(server, manifest)


def test_apply_of_a_manifest_lists_ahead_too_then_writes_through_the_same_providers(
    server: RunningSandbox, manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waited = _load_waiting_for_a_listing(monkeypatch)
    applied = invoke("apply", "-f", str(manifest), "--endpoint", server.base_url, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert waited == [True]
    assert _plan_after_loading(server, manifest).has_changes is False


def test_listings_ahead_are_joined_not_sent_again(
    server: RunningSandbox, manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed: list[Scope] = []
    _after_each_listing(monkeypatch, listed.append)
    desired = _plan_ahead(server, manifest).desired
    assert sorted(map(str, listed)) == sorted(str(spec.scope) for spec in desired.scopes)


def test_an_invalid_manifest_reports_every_problem_and_plans_nothing(
    server: RunningSandbox, tmp_path: Path
) -> None:
    broken = MANIFEST.replace("handler_type: s3", "handler_type: s4").replace(
        "table: sales", "table: 7"
    )
    result = invoke("plan", "-f", write_manifest(tmp_path, broken), "--endpoint", server.base_url)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("exports.yaml:") == 3, result.stderr  # two s4 and one table
    assert "Task" not in result.stderr  # the listings ahead were cancelled cleanly


def test_selectors_narrow_what_is_listed_ahead(
    server: RunningSandbox, manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed: list[Scope] = []
    _after_each_listing(monkeypatch, listed.append)
    result = invoke(
        "plan", "-f", manifest, "--endpoint", server.base_url, "--target", "dataview=457"
    )
    assert result.exit_code == 0, result.stderr
    assert [str(scope) for scope in listed] == ["1/1/123/457"]


@pytest.fixture
def silent_server() -> Iterator[tuple[str, threading.Event]]:
    """An API that accepts connections and never answers; the event says one came."""
    listener = socket.create_server(("127.0.0.1", 0))
    connected, stopping = threading.Event(), threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stopping.is_set():
            held.append(listener.accept()[0])
            connected.set()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    address = listener.getsockname()
    try:
        yield f"http://127.0.0.1:{address[1]}/api/v2", connected
    finally:
        stopping.set()
        socket.create_connection(address).close()  # wakes the accept() to see it
        acceptor.join(timeout=10)
        listener.close()
        for connection in held:
            connection.close()


def test_an_invalid_manifest_is_reported_at_once_even_when_the_api_never_answers(
    silent_server: tuple[str, threading.Event], tmp_path: Path
) -> None:
    url, connected = silent_server
    broken = MANIFEST.replace("handler_type: s3", "handler_type: s4")
    start = time.monotonic()
    result = invoke("plan", "-f", write_manifest(tmp_path, broken), "--endpoint", url)
    assert connected.is_set()  # the listings ahead had left
    assert result.exit_code == 1
    assert result.stderr.count("exports.yaml:") == 2, result.stderr
    assert time.monotonic() - start < 10  # not the request deadline (60 s) and its retries


def test_ctrl_c_stops_a_plan_waiting_on_an_api_that_never_answers(
    silent_server: tuple[str, threading.Event], tmp_path: Path
) -> None:
    url, connected = silent_server
    manifest = write_manifest(tmp_path)
    env = {**os.environ, SECRET_VARIABLE: SECRET, "MAMMOTH_API_KEY": "k", "MAMMOTH_API_SECRET": "s"}
    command = [sys.executable, "-m", "reconciler", "plan", "-f", str(manifest), "--endpoint", url]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert connected.wait(timeout=30)  # listing: the plan now waits on the API
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 1
    assert stderr.decode().strip() == "Error: Interrupted: nothing was changed."


def test_ctrl_c_to_the_process_alone_ends_the_manifest_check_in_the_child_too(
    silent_server: tuple[str, threading.Event], tmp_path: Path
) -> None:
    """A CI runner may signal exportctl's pid only: its forked checker must not be waited for."""
    url, connected = silent_server
    manifest = tmp_path / "big.yaml"  # its check in the child takes seconds
    views = "".join(
        f"  - {{workspace_id: 1, project_id: 1, dataset_id: 1, dataview_id: {view}, exports: ["
        + ", ".join(
            f"{{key: e{n}, handler_type: s3, target_properties: {{file: v{view}f{n}.csv}}}}"
            for n in range(40)
        )
        + "]}\n"
        for view in range(1000)
    )
    manifest.write_text(f"version: 1\ndataviews:\n{views}")
    env = {**os.environ, "MAMMOTH_API_KEY": "k", "MAMMOTH_API_SECRET": "s"}
    command = [sys.executable, "-m", "reconciler", "plan", "-f", str(manifest), "--endpoint", url]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert connected.wait(timeout=30)  # the guessed dataviews are being listed
        process.send_signal(signal.SIGINT)
        start = time.monotonic()
        _, stderr = process.communicate(timeout=30)
        stopped = time.monotonic() - start
    finally:
        process.kill()
    assert (process.returncode, stderr.decode().strip()) == (
        1,
        "Error: Interrupted: nothing was changed.",
    )
    assert stopped < 2  # the check of 40,000 exports alone takes longer than that
