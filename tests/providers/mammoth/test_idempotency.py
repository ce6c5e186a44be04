"""Idempotency keys over a real socket: lost answers, crashes and concurrent applies.

Each scenario runs against a sandbox that honours ``Idempotency-Key`` (as the
real API does) and against one started with keys ignored, where the core's
re-list-by-marker path must still leave exactly one export per key.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import httpx
import pytest

from reconciler.errors import MaybeLandedError
from reconciler.identity import MARKER_KEY_ENV, _stretch, new_salt
from reconciler.model import thaw
from reconciler.providers.mammoth.idempotency import HEADER, IN_PROGRESS_CODE, change_key
from reconciler.providers.mammoth.kind import EXPORTS
from reconciler.providers.mammoth.model import ExportSpec
from tests.apply.convergence import assert_converged
from tests.apply.helpers import (
    REF,
    apply_now,
    client,
    desired,
    live_exports,
    provider,
    s3,
    spec,
)
from tests.conftest import SANDBOX_HEADERS, SandboxFactory
from tests.providers.mammoth.sandbox.api import EXPORTS as EXPORTS_PATH
from tests.providers.mammoth.sandbox.api import add_body
from tests.sandboxes import RunningSandbox

STATE = desired((REF, [s3("a", "a.csv"), s3("b", "b.csv"), s3("c", "c.csv")]))
KEYS = ["a", "b", "c"]


def _sandbox(factory: SandboxFactory, *, ignore: bool, **knobs: object) -> RunningSandbox:
    server = factory(ignore_idempotency_keys=ignore, **knobs)
    server.store.ensure_dataviews([REF])
    return server


def _exports_per_key(server: RunningSandbox) -> Counter[str]:
    return Counter(
        marker.key
        for export in live_exports(server.base_url, REF)
        if (marker := EXPORTS.marker(export)) is not None
    )


def _wait_for_jobs(server: RunningSandbox) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with server.store.read() as tx:
            running = tx.conn.execute("SELECT count(*) FROM jobs WHERE status = 'processing'")
            if running.fetchone()[0] == 0:
                return
        live_exports(server.base_url, REF)  # any request settles the jobs that are due
        time.sleep(0.02)
    raise AssertionError("jobs still processing after 5 s")


@pytest.mark.parametrize("ignore", [False, True], ids=["keys honoured", "keys ignored"])
def test_a_retried_add_after_a_dropped_answer_leaves_one_export_per_key(
    sandbox_factory: SandboxFactory, ignore: bool
) -> None:
    # Every change lands, then its connection is closed without an answer.
    server = _sandbox(
        sandbox_factory, ignore=ignore, commit_then_fail_every=1, commit_then_fail_mode="drop"
    )
    result = apply_now(server.base_url, STATE)
    server.set_faults(commit_then_fail_every=0)
    _wait_for_jobs(server)
    assert result.ok, [a.message for a in result.actions()]
    assert _exports_per_key(server) == Counter(KEYS)
    assert_converged(server.base_url, STATE)


@pytest.mark.parametrize("ignore", [False, True], ids=["keys honoured", "keys ignored"])
def test_a_rerun_after_a_crash_between_send_and_answer_adds_nothing_twice(
    sandbox_factory: SandboxFactory, ignore: bool
) -> None:
    # With keys the first add's job is still running when the rerun lists the
    # dataview: only the key keeps the rerun from adding it again. Without keys
    # the rerun can only see what has landed, so that job ends at once.
    delay = 0 if ignore else 400
    server = _sandbox(
        sandbox_factory,
        ignore=ignore,
        job_delay_ms=delay,
        commit_then_fail_every=1,
        commit_then_fail_mode="drop",
    )
    first = STATE.scopes[0].resources[0]

    async def crash() -> None:
        async with provider(server.base_url) as api:  # a first process: its own salt
            with pytest.raises(MaybeLandedError):
                await api.create(STATE.scopes[0].scope, first, salt=new_salt())

    asyncio.run(crash())  # ... and it dies without an answer
    server.set_faults(commit_then_fail_every=0)
    result = apply_now(server.base_url, STATE)  # the rerun, a new process
    _wait_for_jobs(server)
    assert result.ok, [a.message for a in result.actions()]
    assert _exports_per_key(server) == Counter(KEYS)
    assert_converged(server.base_url, STATE)


def test_two_concurrent_applies_of_one_manifest_add_each_export_once(
    sandbox_factory: SandboxFactory,
) -> None:
    # Slow jobs and answers keep both applies in flight at once.
    server = _sandbox(sandbox_factory, ignore=False, job_delay_ms=150, latency_ms=20)
    start = threading.Barrier(2)
    results = []

    def one_apply() -> None:
        start.wait()
        results.append(apply_now(server.base_url, STATE))

    threads = [threading.Thread(target=one_apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    _wait_for_jobs(server)
    assert [r.ok for r in results] == [True, True]
    assert _exports_per_key(server) == Counter(KEYS)
    with server.store.read() as tx:
        ran = tx.conn.execute("SELECT count(*) FROM jobs WHERE operation = 'add_export'")
        assert ran.fetchone()[0] == len(KEYS)  # each add ran once on the server


def _post(server: RunningSandbox, key: str, file: str = "k.csv") -> httpx.Response:
    headers = {**SANDBOX_HEADERS, HEADER: key}
    return httpx.post(server.base_url + EXPORTS_PATH, json=add_body(file), headers=headers)


def test_the_sandbox_runs_a_keyed_write_once_and_echoes_the_key(
    sandbox_factory: SandboxFactory,
) -> None:
    server = _sandbox(sandbox_factory, ignore=False)
    first, again = _post(server, "k-1"), _post(server, "k-1", "other.csv")
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.headers[HEADER] == again.headers[HEADER] == "k-1"
    assert again.json() == first.json()  # the first answer, replayed
    assert [e.target_properties["file"] for e in live_exports(server.base_url, REF)] == ["k.csv"]


def test_a_sandbox_ignoring_keys_runs_every_attempt_and_echoes_nothing(
    sandbox_factory: SandboxFactory,
) -> None:
    server = _sandbox(sandbox_factory, ignore=True)
    first, again = _post(server, "k-1"), _post(server, "k-1", "other.csv")
    assert HEADER not in first.headers and HEADER not in again.headers
    assert len(live_exports(server.base_url, REF)) == 2


def test_a_replay_while_the_first_attempt_runs_is_409_4genr038(
    sandbox_factory: SandboxFactory,
) -> None:
    server = _sandbox(sandbox_factory, ignore=False)
    path = "/api/v2" + EXPORTS_PATH
    with server.store.write() as tx:  # a first attempt that has not finished yet
        tx.reserve_key("k-busy", f"POST {path}", time.time())
    answer = _post(server, "k-busy")
    assert answer.status_code == 409
    assert answer.json()["error_code"] == IN_PROGRESS_CODE
    assert live_exports(server.base_url, REF) == []


def test_a_failed_job_frees_its_key_for_the_same_write(sandbox_factory: SandboxFactory) -> None:
    server = _sandbox(sandbox_factory, ignore=False, job_failure_rate=1)
    assert _post(server, "k-2").json()["job"]["status"] == "failure"
    server.set_faults(job_failure_rate=0)
    assert _post(server, "k-2").json()["job"]["status"] == "success"


def test_a_changes_key_depends_on_the_change_not_on_the_run() -> None:
    spec = STATE.scopes[0].resources[0]
    form = EXPORTS.normalize_desired(spec).form
    key = change_key(str(REF), "a", "add", None, form)
    assert key == change_key(str(REF), "a", "add", None, dict(form))
    others = [
        change_key(str(REF), "a", "validate-add", None, form),
        change_key(str(REF), "b", "add", None, form),
        change_key(str(REF), "a", "edit", 7, form),
        change_key(str(REF), "a", "add", None, {**form, "trigger_type": "pipeline"}),
    ]
    assert key not in others and len(set(others)) == len(others)


@pytest.mark.parametrize("ignore", [False, True], ids=["keys honoured", "keys ignored"])
def test_the_client_resends_a_lost_keyed_write_only_to_a_server_that_echoed_keys(
    sandbox_factory: SandboxFactory, ignore: bool
) -> None:
    server = _sandbox(sandbox_factory, ignore=ignore)
    body = add_body("lost.csv")
    dry = {**body, "validate_only": True}

    async def scenario() -> object:
        async with client(server.base_url) as api:
            await api.add_export(REF, dry, idempotency_key="learn")  # the echo, if any
            server.set_faults(commit_then_fail_every=1, commit_then_fail_mode="drop")
            try:
                return await api.add_export(REF, body, idempotency_key="lost-once")
            except MaybeLandedError as lost:
                return lost

    outcome = asyncio.run(scenario())
    server.set_faults(commit_then_fail_every=0)
    if ignore:  # no echo: the core's re-list-by-marker path has to decide
        assert isinstance(outcome, MaybeLandedError)
    else:  # resent with the same key: the stored answer came back
        assert not isinstance(outcome, MaybeLandedError), outcome
    assert [e.target_properties["file"] for e in live_exports(server.base_url, REF)] == ["lost.csv"]


def _keys_sent(server: RunningSandbox) -> set[str]:
    with server.store.read() as tx:
        rows = tx.conn.execute("SELECT key FROM idempotency_keys").fetchall()
    return {row[0] for row in rows}


def _postgres(password: str) -> ExportSpec:
    target = {"host": "db", "database": "dw", "table": "t", "username": "u", "password": password}
    return spec("pg", "postgres", target)


def test_a_keys_secret_part_costs_a_stretch_to_check_yet_is_the_same_in_every_run(
    sandbox_factory: SandboxFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Idempotency keys may be logged on their way to the API: a guess at the
    password must not be checkable with one sha256, and a rerun (another
    process: nothing remembered) must still send the same keys."""
    monkeypatch.delenv(MARKER_KEY_ENV, raising=False)

    def sent(password: str) -> set[str]:
        _stretch.cache_clear()
        server = _sandbox(sandbox_factory, ignore=False)
        apply_now(server.base_url, desired((REF, [_postgres(password)])))
        return _keys_sent(server)

    first = sent("hunter2")
    assert first and sent("hunter2") == first
    assert sent("hunter3").isdisjoint(first)  # a rotated secret is another change
    normalized = EXPORTS.normalize_desired(_postgres("hunter2"))
    guess = [normalized.form, thaw(normalized.secrets)]  # the value itself, hashed once
    assert change_key(str(REF), "pg", "add", None, guess) not in first
    assert "hunter2" not in "".join(first)
