"""``plan`` lists the dataviews while the manifest is still being checked."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import ahead, load_aside
from reconciler.cli.session import Planned, load_desired, open_for, plan_live
from reconciler.model import DesiredState, LiveScope, Scope
from reconciler.plan import Plan
from reconciler.providers.base import Connection
from reconciler.providers.mammoth.provider import MammothProvider
from tests.cli.support import MANIFEST, invoke, write_manifest
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


def test_a_dataview_is_listed_before_the_manifest_has_loaded(
    server: RunningSandbox, manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = threading.Event()
    _after_each_listing(monkeypatch, lambda _: listed.set())
    waited: list[bool] = []

    def load_then_wait_for_a_listing(*args: Any) -> DesiredState:
        desired = load_desired(*args)
        waited.append(listed.wait(timeout=10))  # the loader's thread has not returned yet
        return desired

    # The server's thread keeps the check in this process (``load_aside``).
    monkeypatch.setattr(load_aside, "load_desired", load_then_wait_for_a_listing)
    plan = _plan_ahead(server, manifest).plan
    assert waited == [True]
    assert plan == _plan_after_loading(server, manifest)


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
