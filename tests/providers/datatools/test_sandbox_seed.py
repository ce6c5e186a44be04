"""The data-tools sandbox seeded from ``sandbox serve --seed FILE``'s ``datatools:`` key.

Over real sockets: the served command itself (so Mammoth reads the same file
and must leave the ``datatools:`` key alone), and the provider's part as
``serve`` builds it, for the built-in seed kept and the refusals.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import ConfigError
from reconciler.providers.datatools.provider import FACTORY
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.server import serve_app_in_thread
from tests.cli.support import all_output, invoke
from tests.providers.datatools.support import API, Browser

TEMPLATES = f"{API}/export-templates/"
JOBS = f"{API}/exports/"
ORDERS = "0bde5000-0000-4000-8000-00000000000a"
MAMMOTH_KEYS = """\
connections: [warehouse]
dataviews:
  - {workspace_id: 1, project_id: 1, dataset_id: 7, dataview_id: 70}
"""
DATATOOLS_KEY = f"""\
datatools:
  users:
    - {{username: alice, password: alice-pw}}
  datasources:
    - {{id: {ORDERS}, name: orders, rows: 4, owner: alice}}
  templates:
    - name: Weekly
      user: alice
      configuration: {{format: csv, filters: {{limit: 10}}}}
    - name: Team
      description: for everyone
      user: alice
      template_type: shared
      configuration: {{format: json}}
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``exportctl sandbox serve --seed`` with Mammoth's keys and ``datatools:``; its URL."""
    seed = tmp_path / "seed.yaml"
    seed.write_text(MAMMOTH_KEYS + DATATOOLS_KEY, encoding="utf-8")
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0"]
    command += ["--db", str(tmp_path / "sandbox.db"), "--seed", str(seed)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATATOOLS_")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Sandbox listening on http://"), first
        root = first.split()[3]
        _wait_until_serving(root)
        yield root
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_serving(root: str) -> None:
    """The socket is bound before the listing prints; uvicorn accepts a moment later."""
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"{root}/accounts/login/", timeout=1)
            return
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def listed(browser: Browser) -> list[tuple[str, str, str]]:
    templates = browser.get(TEMPLATES).json()["data"]["templates"]
    return sorted((t["user"], t["name"], t["template_type"]) for t in templates)


def test_serve_seeds_users_datasources_and_templates_beside_mammoths_keys(served: str) -> None:
    with Browser(served) as alice:
        assert alice.log_in("alice", "alice-pw").status_code == 302
        assert listed(alice) == [("alice", "Team", "shared"), ("alice", "Weekly", "user")]
        created = alice.write("POST", JOBS, json={"datasource": ORDERS, "format": "csv"})
        assert created.status_code == 201, created.text
        job_id = created.json()["data"]["id"]
        deadline = time.monotonic() + 10
        job: dict[str, Any] = {}
        while time.monotonic() < deadline and job.get("status") != "completed":
            job = alice.get(f"{JOBS}{job_id}/").json()["data"]
            time.sleep(0.02)
        assert (job["status"], job["row_count"]) == ("completed", 4)
    with Browser(served) as login_user:  # the environment's login user, seeded or not
        assert login_user.log_in("sandbox", "sandbox").status_code == 302
        assert listed(login_user) == [("alice", "Team", "shared")]  # no built-in templates


def _site_templates(tmp_path: Path, seed_text: str) -> list[tuple[str, str, str]]:
    seed = tmp_path / "seed.yaml"
    seed.write_text(seed_text, encoding="utf-8")
    part = FACTORY.sandbox(tmp_path / "sandbox.db", SandboxConfig(), SandboxClock(), seed)
    try:
        with serve_app_in_thread(part.app, date_header=False) as root, Browser(root) as browser:
            assert browser.log_in().status_code == 302
            return listed(browser)
    finally:
        part.close()


def test_a_seed_file_without_a_datatools_key_keeps_the_built_in_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATATOOLS_USERNAME", raising=False)
    monkeypatch.delenv("DATATOOLS_PASSWORD", raising=False)
    templates = _site_templates(tmp_path, MAMMOTH_KEYS)
    assert ("system", "CSV - Full Export", "system") in templates
    assert ("colleague", "Team KPIs", "shared") in templates


@pytest.mark.parametrize(
    ("seed_text", "problem"),
    [
        ("datatools: [alice]\n", "datatools: expected a mapping"),
        (
            "datatools:\n  groups: []\n",
            "datatools.groups: unknown key; expected users, datasources, templates",
        ),
        (
            "datatools:\n  users:\n    - {username: alice}\n",
            "datatools.users[0].password: expected a non-empty string",
        ),
        (
            "datatools:\n  datasources:\n    - {id: orders, name: orders}\n",
            "datatools.datasources[0].id: 'orders' is not a UUID",
        ),
        (
            f"datatools:\n  datasources:\n    - {{id: {ORDERS}, name: o, rows: -1}}\n",
            "datatools.datasources[0].rows: expected an integer >= 0",
        ),
        (
            "datatools:\n  templates:\n    - {name: T, user: bob, configuration: {}}\n",
            "datatools.templates[0].user: 'bob' is not the login user or a seeded user",
        ),
        (
            "datatools:\n  templates:\n    - {name: T, user: sandbox, template_type: team,"
            " configuration: {}}\n",
            "datatools.templates[0].template_type: expected one of user, shared, system",
        ),
        (
            "datatools:\n  templates:\n    - {name: T, user: sandbox, configuration: csv}\n",
            "datatools.templates[0].configuration: expected a mapping",
        ),
    ],
)
def test_a_malformed_datatools_seed_names_the_file_and_the_place(
    tmp_path: Path, seed_text: str, problem: str
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(seed_text, encoding="utf-8")
    db = tmp_path / "sandbox.db"
    with pytest.raises(ConfigError) as raised:
        FACTORY.sandbox(db, SandboxConfig(), SandboxClock(), seed)
    assert str(raised.value) == f"{seed}: {problem}. Fix the seed file and start again."
    assert not (tmp_path / "sandbox-datatools.db").exists()  # refused before any table


def test_serve_refuses_a_malformed_datatools_seed_without_a_traceback(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(MAMMOTH_KEYS + "datatools:\n  users: {alice: pw}\n", encoding="utf-8")
    result = invoke("sandbox", "serve", "--db", str(tmp_path / "s.db"), "--seed", str(seed))
    assert result.exit_code != 0
    output = all_output(result)
    assert f"{seed}: datatools.users: expected a list" in output
    assert "Traceback" not in output
