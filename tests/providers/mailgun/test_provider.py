"""The Mailgun provider on the seam: the embedded sandbox, import, the shared server,
the already-processing 400, and convergence from any live state."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply.engine import ApplyOptions, apply_plan
from reconciler.apply.execute import ExecuteOptions
from reconciler.apply.result import Outcome
from reconciler.cli.main import cli
from reconciler.cli.session import plan_live
from reconciler.errors import ApiError
from reconciler.manifest import load_manifest
from reconciler.model import DesiredState, LiveRun, RunState, freeze
from reconciler.plan import Action, Plan
from reconciler.progress import LineProgress
from reconciler.providers.base import Connection, Providers
from reconciler.providers.mailgun.provider import FACTORY
from reconciler.providers.mailgun.sandbox.app import sandbox_service
from reconciler.providers.mailgun.sandbox.lists import DEFAULT_LISTS, render_csv
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.combined import combined_app
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.server import serve_app_in_thread
from tests.providers.mailgun.conftest import MailgunFactory
from tests.providers.mailgun.support import HOUR, RunningMailgun
from tests.render.schemas import errors

MANIFEST = """\
version: 1
mailgun:
  snapshots:
    - {key: domains, url: /v3/domains, max_age: 6h, download: out/domains.csv}
    - {key: bounces, url: /v3/sandbox.example.com/bounces, max_age: 24h}
"""
URLS = ("domains", "sandbox.example.com/bounces", "sandbox.example.com/unsubscribes")


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAILGUN_BASE_URL", raising=False)
    monkeypatch.delenv("MAILGUN_REGION", raising=False)
    path = tmp_path / "mailgun.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    return path


def test_the_embedded_sandbox_needs_no_key_and_keeps_its_own_file(
    manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAILGUN_API_KEY", raising=False)
    db = str(tmp_path / "state" / "sandbox.db")
    runner = CliRunner()
    first = runner.invoke(cli, ["plan", "-f", str(manifest), "--sandbox", db])
    assert (first.exit_code, first.stdout.splitlines()[0]) == (0, "Mailgun account api.mailgun.net")
    applied = runner.invoke(cli, ["apply", "-f", str(manifest), "--sandbox", db, "--auto-approve"])
    assert applied.exit_code == 0, applied.stderr
    assert (tmp_path / "out" / "domains.csv").read_bytes() == render_csv(DEFAULT_LISTS["domains"])
    again = runner.invoke(cli, ["plan", "-f", str(manifest), "--sandbox", db])
    assert (again.exit_code, again.stdout) == (0, "No changes. Live exports match the manifest.\n")
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["sandbox-mailgun.db"]


def test_import_writes_the_exports_of_the_last_day_as_a_manifest_plan_finds_fresh(
    manifest: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "sandbox.db")
    runner = CliRunner()
    applied = runner.invoke(cli, ["apply", "-f", str(manifest), "--sandbox", db, "--auto-approve"])
    assert applied.exit_code == 0, applied.stderr
    imported = runner.invoke(cli, ["import", "mailgun", "--sandbox", db, "--out", "imported.yaml"])
    assert (imported.exit_code, imported.stderr) == (
        0,
        "Imported 2 snapshots into imported.yaml.\n",
    )
    text = (tmp_path / "imported.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[2:] == [
        "version: 1",
        "mailgun:",
        "  snapshots:",
        "  - key: domains",
        "    url: /v3/domains",
        "    max_age: 24h",
        "  - key: sandbox.example.com-bounces",
        "    url: /v3/sandbox.example.com/bounces",
        "    max_age: 24h",
    ]
    planned = runner.invoke(cli, ["plan", "-f", "imported.yaml", "--sandbox", db])
    assert (planned.exit_code, planned.stdout) == (
        0,
        "No changes. Live exports match the manifest.\n",
    )
    again = runner.invoke(cli, ["import", "mailgun", "--sandbox", db, "--out", "imported.yaml"])
    assert again.exit_code == 1
    assert "imported.yaml already exists" in again.stderr


def test_the_shared_server_serves_mailgun_beside_the_others_and_names_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", "key-shared-server-secret")
    part = FACTORY.sandbox(tmp_path / "sandbox.db", SandboxConfig(), SandboxClock(), None)
    try:
        with serve_app_in_thread(combined_app([part])) as root:
            described = part.describe(root)
            listed = httpx.get(f"{root}/v3/exports", auth=("api", "key-shared-server-secret"))
            refused = httpx.get(f"{root}/v3/exports", auth=("api", "sandbox"))
    finally:
        part.close()
    assert described == (
        f"Mailgun exports API on {root}/v3/exports (Basic auth api:KEY, the key from "
        f"MAILGUN_API_KEY; set MAILGUN_BASE_URL={root})"
    )
    assert (listed.status_code, listed.json()) == (200, {"items": []})
    assert refused.status_code == 401
    assert (tmp_path / "sandbox-mailgun.db").exists()


def _desired(server: RunningMailgun, manifest: Path) -> DesiredState:
    return load_manifest([manifest], {"MAILGUN_BASE_URL": server.root_url})


def test_a_run_while_one_is_processing_answers_with_that_export(
    mailgun: RunningMailgun, manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", "sandbox")
    desired = _desired(mailgun, manifest)
    spec = desired.scopes[0]
    provider = FACTORY.open(Connection(endpoint=mailgun.root_url), desired)

    async def twice() -> tuple[str | None, str | None, int]:
        async with provider:
            snapshots = Providers({"mailgun": provider}).snapshots(spec.scope)
            first = await snapshots.run(spec.scope, spec.snapshots[0])
            second = await snapshots.run(spec.scope, spec.snapshots[0])  # a 400 on the wire
            listed = await provider.list(spec.scope)
        return first.job_id, second.job_id, len(listed.runs)

    first, second, count = asyncio.run(twice())
    assert first is not None and first == second
    assert count == 1


# -- convergence from any live state ------------------------------------------------

# (url, status, hours ago). Limitation: an export still processing is requested
# at most 5 hours ago, within every max_age of the manifest: the core waits for
# one older than max_age, and it ends stale, so that plan would not converge in
# one apply (the next one runs anew).
_export = st.one_of(
    st.tuples(st.sampled_from(URLS), st.just("complete"), st.floats(0, 23.9)),
    st.tuples(st.sampled_from(URLS), st.just("processing"), st.floats(0, 5)),
)


def _seed(server: RunningMailgun, exports: list[tuple[str, str, float]]) -> None:
    """Exports made earlier: complete ones done, processing ones done in 50 ms from now."""
    store, now = sandbox_service(server.app).store, server.clock.now()
    with store.transaction() as tx:
        for url, status, hours_ago in exports:
            due = now - 1 if status == "complete" else now + 0.05
            tx.insert_export(url, now - hours_ago * HOUR, due, b"")


async def _apply_then_plan(server: RunningMailgun, desired: DesiredState) -> tuple[Plan, Plan]:
    provider = FACTORY.open(Connection(endpoint=server.root_url), desired)
    options = ApplyOptions(execute=ExecuteOptions(poll_interval=0.01, landed_grace=0.2))
    async with provider:
        providers = Providers({"mailgun": provider})
        before = await plan_live(providers, desired, [], [])
        result = await apply_plan(
            providers, before, options=options, progress=LineProgress(io.StringIO())
        )
        assert all(a.outcome is Outcome.APPLIED for a in result.actions()), result.actions()
        return before, await plan_live(providers, desired, [], [])


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(exports=st.lists(_export, max_size=5), faulty=st.booleans())
def test_from_any_live_state_apply_then_plan_shows_no_changes(
    mailgun_factory: MailgunFactory,
    manifest: Path,
    monkeypatch: pytest.MonkeyPatch,
    exports: list[tuple[str, str, float]],
    faulty: bool,
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", "sandbox")
    server = mailgun_factory(job_delay_ms=20)
    _seed(server, _one_processing_per_url(exports))
    if faulty:
        server.set_faults(commit_then_fail_rate=0.5, error_rate=0.2)
    desired = _desired(server, manifest)
    before, after = asyncio.run(_apply_then_plan(server, desired))
    assert not after.has_changes, [(c.key, c.action, c.reason) for _, c in after.changes()]
    runs = sum(1 for _, change in before.changes() if change.action is Action.RUN)
    with server.http() as http:
        listed = http.get("/v3/exports").json()["items"]
    assert len(listed) == len(exports) + runs  # one export per snapshot that had to run


def _one_processing_per_url(exports: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    """Mailgun runs one export per URL at a time: later processing ones are complete."""
    seen: set[str] = set()
    kept = []
    for url, status, hours in exports:
        if status == "processing" and url in seen:
            status = "complete"
        if status == "processing":
            seen.add(url)
        kept.append((url, status, hours))
    return kept


def test_the_example_manifest_plans_in_the_embedded_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = Path(__file__).parents[3] / "examples" / "mailgun.yaml"
    monkeypatch.delenv("MAILGUN_BASE_URL", raising=False)
    monkeypatch.setenv("MAILGUN_REGION", "eu")
    db = str(tmp_path / "sandbox.db")
    result = CliRunner().invoke(cli, ["plan", "-f", str(example), "--sandbox", db])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Mailgun account api.eu.mailgun.net"
    assert result.stdout.splitlines()[-1].endswith(", 2 to run.")


def test_deleting_an_export_is_refused_with_the_reason(
    mailgun: RunningMailgun, manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", "sandbox")
    desired = _desired(mailgun, manifest)
    scope = desired.scopes[0].scope
    run = LiveRun("6b0ea3500000000000000001", freeze({"url": "domains"}), RunState.SUCCEEDED, 60)

    async def delete() -> None:
        async with FACTORY.open(Connection(endpoint=mailgun.root_url), desired) as provider:
            await provider.delete(scope, run, key="domains")

    with pytest.raises(ApiError) as caught:
        asyncio.run(delete())
    assert caught.value.message == (
        "Mailgun cannot delete export 6b0ea3500000000000000001 (snapshot key 'domains'): its "
        "API has no delete call; exports expire 24 hours after creation."
    )


def test_get_lists_the_runs_the_plan_found_fresh(manifest: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    runner = CliRunner()
    before = runner.invoke(cli, ["get", "-f", str(manifest), "--sandbox", db])
    assert before.stdout == "No live resources in the selected scopes.\n"
    applied = runner.invoke(cli, ["apply", "-f", str(manifest), "--sandbox", db, "--auto-approve"])
    assert applied.exit_code == 0, applied.stderr
    table = runner.invoke(cli, ["get", "-f", str(manifest), "--sandbox", db])
    assert [row.split()[2:] for row in table.stdout.splitlines()] == [
        ["ID", "KEY", "TYPE", "MANAGED", "STATE"],
        ["domains", "csv", "yes", "fresh"],
        ["bounces", "csv", "yes", "fresh"],
    ]
    document = json.loads(
        runner.invoke(cli, ["get", "-f", str(manifest), "--sandbox", db, "-o", "json"]).stdout
    )
    assert errors("inventory.schema.json", document) == []
    runs = {r["key"]: r["id"] for r in document["resources"]}
    assert sorted(runs) == ["bounces", "domains"] and all(runs.values())
    assert all(run_id in table.stdout for run_id in runs.values())
