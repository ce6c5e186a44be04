"""Restarts, concurrent writers, seed files and the serve command."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.sandbox_cmd import sandbox as sandbox_group
from reconciler.providers.mammoth.sandbox.seed import SeedError, load_seed
from reconciler.providers.mammoth.sandbox.store import Store
from tests.conftest import SandboxFactory
from tests.providers.mammoth.sandbox.api import EXPORTS, add_body, client, make_dataview

SEED = """
connections: [powerbi_prod]
dataviews:
  - workspace_id: 1
    project_id: 1
    dataset_id: 123
    dataview_id: 456
    exports:
      - {handler_type: s3, trigger_type: none, run_immediately: false,
         target_properties: {file: legacy.csv, file_type: csv}}
      - {handler_type: postgres, trigger_type: pipeline,
         target_properties: {host: pg, username: u, password: p, database: d, table: t}}
"""


def test_data_survives_a_restart(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    first = sandbox_factory(db_path=db)
    make_dataview(first)
    with client(first) as api:
        api.post(EXPORTS, json=add_body("a.csv"))
    second = sandbox_factory(db_path=db)
    with client(second) as api:
        exports = api.get(EXPORTS).json()["exports"]
    assert [(e["id"], e["target_properties"]["file"]) for e in exports] == [(1, "a.csv")]


def test_sixteen_concurrent_writers(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory()
    make_dataview(server)
    ids: list[int] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        with client(server) as api:
            for i in range(5):
                response = api.post(EXPORTS, json=add_body(f"w{n}-{i}.csv"))
                assert response.status_code == 201
                with lock:
                    ids.append(response.json()["trigger_id"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == list(range(1, 81))
    with client(server) as api:
        exports = api.get(EXPORTS, params={"limit": 100, "fields": "id,sequence"}).json()["exports"]
    assert sorted(e["sequence"] for e in exports) == list(range(1, 81))


def test_seed_file_creates_connections_dataviews_and_exports(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED, encoding="utf-8")
    db = tmp_path / "seeded.db"
    sandbox_factory(db_path=db, seed_file=seed)
    server = sandbox_factory(db_path=db, seed_file=seed)  # a restart must not duplicate
    with client(server) as api:
        exports = api.get(EXPORTS).json()["exports"]
    assert [(e["handler_type"], e["sequence"]) for e in exports] == [("s3", 1), ("postgres", 2)]
    with server.store.read() as tx:
        assert tx.connection_ids() == ["powerbi_prod"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- 1", "expected a mapping with 'connections' and 'dataviews'"),
        ("connections: [1]", "connections: expected a list of connection ids (strings)"),
        (
            "dataviews: [{workspace_id: 1}]",
            "dataviews[0]: expected integer workspace_id, project_id, dataset_id, dataview_id",
        ),
        (
            "dataviews: [{workspace_id: 1, project_id: 1, dataset_id: 1, dataview_id: 2, "
            "exports: [{handler_type: s3, trigger_type: none}]}]",
            "dataviews[0].exports[0]: AddExportSpec: target_properties is invalid for handler s3: "
            "'file' is a required property",
        ),
    ],
)
def test_bad_seed_files_are_named_errors(tmp_path: Path, text: str, message: str) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(text, encoding="utf-8")
    with pytest.raises(SeedError) as error:
        load_seed(Store(tmp_path / "s.db"), seed)
    assert str(error.value) == f"{seed}: {message}"


def test_serve_reports_a_bad_seed_without_a_traceback(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("connections: [1]", encoding="utf-8")
    result = CliRunner().invoke(
        sandbox_group, ["serve", "--db", str(tmp_path / "s.db"), "--seed", str(seed)]
    )
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {seed}: connections: expected a list of connection ids (strings). "
        "Fix the seed file and start again.\n"
    )


def test_serve_help_lists_every_fault_knob() -> None:
    result = CliRunner().invoke(sandbox_group, ["serve", "--help"])
    assert result.exit_code == 0
    for flag in (
        "--latency-ms",
        "--error-rate",
        "--throttle-rate",
        "--retry-after",
        "--job-rate",
        "--job-delay-ms",
        "--job-failure-rate",
        "--commit-then-fail-rate",
        "--commit-then-fail-every",
        "--commit-then-fail-mode",
        "--fault-seed",
        "--seed",
    ):
        assert flag in result.output


def _open_descriptors_of(path: Path) -> int:
    """How many of this process's file descriptors are open on ``path`` (Linux)."""
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if _target(fd) == str(path))


def _target(fd: Path) -> str:
    try:
        return str(fd.readlink())
    except OSError:  # closed since it was listed
        return ""


def test_a_thread_that_ended_leaves_no_connection_open(tmp_path: Path) -> None:
    """A server's worker threads come and go; their connections must go with them."""
    db = tmp_path / "s.db"
    store = Store(db)
    open_after: list[int] = []
    try:
        for _ in range(20):
            worker = threading.Thread(target=store.has_due_jobs, args=(0.0,))
            worker.start()
            worker.join()
            open_after.append(_open_descriptors_of(db))
    finally:
        store.close()
    # This thread's connection, the last worker's until the next one opens, and
    # one SQLite keeps aside while others hold locks on the file: never more.
    assert max(open_after) <= 3
    assert open_after[-1] == open_after[2]
    assert _open_descriptors_of(db) == 0
