"""SQLite persistence for the sandbox: dataviews, connections, exports, jobs.

Why it looks like this:

- WAL mode and one connection per thread, so readers never wait for a writer
  and the server's threadpool can serve lists while an apply is writing.
- Writes are short ``BEGIN IMMEDIATE`` transactions: the write lock is taken
  up front, so two writers queue on SQLite's busy timeout instead of failing
  with "database is locked" half way through.
- Rows come back as plain dicts with JSON columns decoded and booleans as
  ``bool``; the pipeline rules (``pipeline.py``) never see SQL.
- The list endpoint is the hot path (every plan pages through it), so SQLite
  builds each listed export's JSON itself (``query_exports_json``), from a
  copy of ``target_properties`` with secrets already masked at write time:
  no per-row decoding, masking and re-encoding in Python.
- The destination rules (an S3 file, a dataset name) look exports up by a
  target field; expression indexes keep that from scanning the project.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.sandbox.masking import mask_secrets

__all__ = ["JSON_COLUMNS", "Store", "Tx", "timestamp"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dataviews (
    workspace_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    dataset_id INTEGER NOT NULL,
    dataview_id INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, project_id, dataset_id, dataview_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS connections (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    dataset_id INTEGER NOT NULL,
    dataview_id INTEGER NOT NULL,
    sequence INTEGER,
    sub_sequence INTEGER NOT NULL DEFAULT 0,
    handler_type TEXT NOT NULL,
    trigger_type TEXT NOT NULL,
    end_of_pipeline INTEGER NOT NULL,
    status TEXT NOT NULL,
    status_before_suspend TEXT,
    target_properties TEXT NOT NULL,
    target_properties_shown TEXT NOT NULL,
    runnable INTEGER NOT NULL,
    reordered INTEGER NOT NULL DEFAULT 0,
    data_pass_through INTEGER NOT NULL DEFAULT 1,
    additional_properties TEXT NOT NULL,
    condition TEXT NOT NULL,
    last_modified_time TEXT NOT NULL,
    execution_start_time TEXT,
    execution_end_time TEXT,
    last_run_result TEXT,
    error_info TEXT
);
CREATE INDEX IF NOT EXISTS exports_by_dataview
    ON exports (dataview_id, dataset_id, project_id, workspace_id, id);
CREATE INDEX IF NOT EXISTS exports_by_file
    ON exports (json_extract(target_properties, '$."file"'));
CREATE INDEX IF NOT EXISTS exports_by_dataset_name
    ON exports (json_extract(target_properties, '$."dataset_name"'));
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_updated_at TEXT NOT NULL,
    path TEXT NOT NULL,
    operation TEXT NOT NULL,
    due_at REAL NOT NULL,
    will_fail INTEGER NOT NULL,
    action TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (status, due_at);
CREATE TABLE IF NOT EXISTS export_hosts (
    workspace_id INTEGER PRIMARY KEY,
    restricted INTEGER NOT NULL,
    hosts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    status_code INTEGER,
    body TEXT,
    job_id INTEGER,
    created_at REAL NOT NULL
) WITHOUT ROWID;
"""

JSON_COLUMNS = frozenset(
    {"target_properties", "additional_properties", "condition", "last_run_result", "error_info"}
)
_BOOL_COLUMNS = frozenset({"end_of_pipeline", "runnable", "reordered", "data_pass_through"})
_SHOWN = "target_properties_shown"
# Target fields the rules look exports up by; each has an expression index.
_INDEXED_TARGET_FIELDS = frozenset({"file", "dataset_name"})
_DATAVIEW_WHERE = "workspace_id = ? AND project_id = ? AND dataset_id = ? AND dataview_id = ?"


def timestamp() -> str:
    """Now, as the API's date-time strings (ISO 8601, UTC)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _ref_params(ref: DataviewRef) -> tuple[int, int, int, int]:
    return (ref.workspace_id, ref.project_id, ref.dataset_id, ref.dataview_id)


def _decode_export(row: sqlite3.Row) -> dict[str, Any]:
    record: dict[str, Any] = dict(row)
    del record[_SHOWN]
    for name in JSON_COLUMNS:
        text = record[name]
        if text is not None:
            record[name] = json.loads(text)
    for name in _BOOL_COLUMNS:
        record[name] = bool(record[name])
    return record


def _encode(values: Mapping[str, Any]) -> dict[str, Any]:
    encoded = {
        name: json.dumps(value) if name in JSON_COLUMNS and value is not None else value
        for name, value in values.items()
        if name != _SHOWN
    }
    if "target_properties" in values:
        encoded[_SHOWN] = json.dumps(mask_secrets(values["target_properties"]))
    return encoded


def _json_sql(column: str) -> str:
    """SQL giving ``column`` as the API shows it in JSON (booleans, objects, masking)."""
    if column in _BOOL_COLUMNS:
        return f"json(CASE WHEN {column} THEN 'true' ELSE 'false' END)"
    if column == "target_properties":
        return f"json({_SHOWN})"
    if column in JSON_COLUMNS:
        return f"json({column})"
    return column


class Tx:
    """One open transaction: the only way pipeline rules touch the database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @contextmanager
    def savepoint(self, *, keep: bool) -> Iterator[None]:
        """A nested transaction, rolled back on error; ``keep=False`` always rolls back.

        ``keep=False`` is how ``validate_only`` runs every rule for real and leaves
        no trace: not a row, not a sequence, not an autoincrement value.
        """
        self.conn.execute("SAVEPOINT nested")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO nested")
            self.conn.execute("RELEASE nested")
            raise
        if not keep:
            self.conn.execute("ROLLBACK TO nested")
        self.conn.execute("RELEASE nested")

    # -- dataviews and connections -------------------------------------------------

    def dataview_exists(self, ref: DataviewRef) -> bool:
        sql = f"SELECT 1 FROM dataviews WHERE {_DATAVIEW_WHERE}"
        return self.conn.execute(sql, _ref_params(ref)).fetchone() is not None

    def add_dataview(self, ref: DataviewRef) -> bool:
        """Create the dataview; False when it already existed."""
        sql = "INSERT OR IGNORE INTO dataviews VALUES (?, ?, ?, ?)"
        return self.conn.execute(sql, _ref_params(ref)).rowcount == 1

    def connection_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM connections ORDER BY id")]

    def add_connections(self, ids: Iterable[str]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO connections VALUES (?)", [(i,) for i in ids])

    # -- exports ---------------------------------------------------------------------

    def export(self, ref: DataviewRef, export_id: int) -> dict[str, Any] | None:
        sql = f"SELECT * FROM exports WHERE id = ? AND {_DATAVIEW_WHERE}"
        row = self.conn.execute(sql, (export_id, *_ref_params(ref))).fetchone()
        return None if row is None else _decode_export(row)

    def live_count(self, ref: DataviewRef) -> int:
        sql = f"SELECT count(*) FROM exports WHERE {_DATAVIEW_WHERE} AND status != 'deleted'"
        count: int = self.conn.execute(sql, _ref_params(ref)).fetchone()[0]
        return count

    def live_exports_with(
        self, handler_type: str, workspace_id: int, project_id: int, field: str, value: Any
    ) -> list[dict[str, Any]]:
        """Live exports of a project whose target ``field`` equals ``value`` (for the rules)."""
        if field not in _INDEXED_TARGET_FIELDS:
            raise ValueError(f"no index for target field {field!r}")
        # The path is spelled out (not a parameter) so SQLite can use the index.
        sql = (
            "SELECT id, dataset_id, dataview_id FROM exports WHERE "
            f"json_extract(target_properties, '$.\"{field}\"') = ? AND handler_type = ? "
            "AND workspace_id = ? AND project_id = ? AND status != 'deleted'"
        )
        params = (value, handler_type, workspace_id, project_id)
        return [dict(r) for r in self.conn.execute(sql, params)]

    def insert_export(self, ref: DataviewRef, values: Mapping[str, Any]) -> int:
        columns = {
            "workspace_id": ref.workspace_id,
            "project_id": ref.project_id,
            "dataset_id": ref.dataset_id,
            "dataview_id": ref.dataview_id,
            **_encode(values),
        }
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        cursor = self.conn.execute(
            f"INSERT INTO exports ({names}) VALUES ({marks})", tuple(columns.values())
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def update_export(self, export_id: int, values: Mapping[str, Any]) -> None:
        encoded = _encode(values)
        assignments = ", ".join(f"{name} = ?" for name in encoded)
        sql = f"UPDATE exports SET {assignments} WHERE id = ?"
        self.conn.execute(sql, (*encoded.values(), export_id))

    def shift_sequences(self, ref: DataviewRef, low: int, high: int | None, delta: int) -> None:
        """Move live exports with ``low <= sequence <= high`` by ``delta``; mark them reordered."""
        sql = (
            f"UPDATE exports SET sequence = sequence + ?, reordered = 1 WHERE {_DATAVIEW_WHERE} "
            "AND status != 'deleted' AND sequence >= ? AND sequence <= ?"
        )
        upper = high if high is not None else 2**62
        self.conn.execute(sql, (delta, *_ref_params(ref), low, upper))

    def query_exports_json(
        self,
        ref: DataviewRef,
        filters: Sequence[tuple[str, Any]],
        order_by: Sequence[tuple[str, str]],
        limit: int,
        offset: int,
        fields: Sequence[str],
    ) -> tuple[list[str], bool]:
        """One page of a dataview's exports as JSON texts, and whether more follow.

        Column names in ``filters``, ``order_by`` and ``fields`` must come from
        a whitelist (``listing.py``): they are put into the SQL text.
        """
        where = " AND ".join([_DATAVIEW_WHERE, *(f"{name} = ?" for name, _ in filters)])
        order = ", ".join(f"{name} {direction.upper()}" for name, direction in order_by)
        shown = ", ".join(f"'{name}', {_json_sql(name)}" for name in fields)
        sql = (
            f"SELECT json_object({shown}) FROM exports WHERE {where} "
            f"ORDER BY {order} LIMIT ? OFFSET ?"
        )
        params = (*_ref_params(ref), *(value for _, value in filters), limit + 1, offset)
        texts: list[str] = [row[0] for row in self.conn.execute(sql, params)]
        return texts[:limit], len(texts) > limit

    # -- export host policy ----------------------------------------------------------

    def export_hosts(self, workspace_id: int) -> tuple[bool, list[str]]:
        sql = "SELECT restricted, hosts FROM export_hosts WHERE workspace_id = ?"
        row = self.conn.execute(sql, (workspace_id,)).fetchone()
        return (False, []) if row is None else (bool(row[0]), json.loads(row[1]))

    def set_export_hosts(self, workspace_id: int, restricted: bool, hosts: list[str]) -> None:
        sql = "INSERT OR REPLACE INTO export_hosts VALUES (?, ?, ?)"
        self.conn.execute(sql, (workspace_id, int(restricted), json.dumps(hosts)))

    def rest_export_targets(self, workspace_id: int) -> list[dict[str, Any]]:
        """The targets of the workspace's live REST exports (the hosts they send to)."""
        sql = (
            "SELECT target_properties FROM exports WHERE workspace_id = ? AND status != 'deleted' "
            "AND handler_type = 'generic_rest_api_export'"
        )
        return [json.loads(r[0]) for r in self.conn.execute(sql, (workspace_id,))]

    def live_exports_of(self, ref: DataviewRef, handler_type: str) -> list[dict[str, Any]]:
        sql = (
            f"SELECT * FROM exports WHERE {_DATAVIEW_WHERE} AND status != 'deleted' "
            "AND handler_type = ? ORDER BY id"
        )
        rows = self.conn.execute(sql, (*_ref_params(ref), handler_type))
        return [_decode_export(r) for r in rows]

    # -- idempotency keys ----------------------------------------------------------

    def key_record(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM idempotency_keys WHERE key = ?", (key,)).fetchone()
        return None if row is None else dict(row)

    def reserve_key(self, key: str, request: str, now: float) -> None:
        """Mark ``key`` as running ``request`` (replacing an expired or abandoned record)."""
        sql = (
            "INSERT OR REPLACE INTO idempotency_keys (key, request, state, created_at) "
            "VALUES (?, ?, 'running', ?)"
        )
        self.conn.execute(sql, (key, request, now))

    def finish_key(self, key: str, status_code: int, body: Any, job_id: int | None) -> None:
        sql = (
            "UPDATE idempotency_keys SET state = 'done', status_code = ?, body = ?, job_id = ? "
            "WHERE key = ?"
        )
        self.conn.execute(sql, (status_code, json.dumps(body), job_id, key))

    def release_key(self, key: str) -> None:
        self.conn.execute("DELETE FROM idempotency_keys WHERE key = ?", (key,))

    def release_keys_of_job(self, job_id: int) -> None:
        self.conn.execute("DELETE FROM idempotency_keys WHERE job_id = ?", (job_id,))

    # -- jobs ------------------------------------------------------------------------

    def insert_job(self, values: Mapping[str, Any]) -> int:
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cursor = self.conn.execute(
            f"INSERT INTO jobs ({names}) VALUES ({marks})", tuple(values.values())
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def jobs(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        marks = ", ".join("?" for _ in ids)
        rows = self.conn.execute(f"SELECT * FROM jobs WHERE id IN ({marks}) ORDER BY id", ids)
        return [dict(r) for r in rows]

    def due_jobs(self, now: float) -> list[dict[str, Any]]:
        sql = "SELECT * FROM jobs WHERE status = 'processing' AND due_at <= ? ORDER BY id"
        return [dict(r) for r in self.conn.execute(sql, (now,))]

    def finish_job(self, job_id: int, status: str, response: Mapping[str, Any]) -> None:
        sql = "UPDATE jobs SET status = ?, response = ?, last_updated_at = ? WHERE id = ?"
        self.conn.execute(sql, (status, json.dumps(response), timestamp(), job_id))


class Store:
    """The sandbox database: a file, opened lazily once per thread.

    The server's worker threads come and go (anyio ends one idle for 10 s),
    so a connection is closed once its thread has ended: kept forever, each
    held two file descriptors and its page cache, and a sandbox serving for
    an hour reached hundreds of them (then "too many open files").
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: dict[threading.Thread, sqlite3.Connection] = {}
        conn = self._connection()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # check_same_thread=False only so close() may close every thread's connection.
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._close_ended_threads()
                self._connections[threading.current_thread()] = conn
        return conn

    def _close_ended_threads(self) -> None:
        for thread in [t for t in self._connections if not t.is_alive()]:
            self._connections.pop(thread).close()

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction; rolled back if the block raises."""
        with self._transaction("BEGIN IMMEDIATE") as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction: one consistent snapshot for several queries."""
        with self._transaction("BEGIN") as tx:
            yield tx

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Tx]:
        conn = self._connection()
        conn.execute(begin)
        try:
            yield Tx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def has_due_jobs(self, now: float) -> bool:
        sql = "SELECT 1 FROM jobs WHERE status = 'processing' AND due_at <= ? LIMIT 1"
        return self._connection().execute(sql, (now,)).fetchone() is not None

    def find_dataview(
        self, workspace_id: int, project_id: int, dataview_id: int
    ) -> DataviewRef | None:
        """The dataview with this id in the project, whatever its dataset."""
        sql = (
            "SELECT * FROM dataviews WHERE workspace_id = ? AND project_id = ? "
            "AND dataview_id = ? ORDER BY dataset_id LIMIT 1"
        )
        row = self._connection().execute(sql, (workspace_id, project_id, dataview_id)).fetchone()
        return None if row is None else DataviewRef(*row)

    def ensure_dataviews(self, refs: Iterable[DataviewRef]) -> list[DataviewRef]:
        """Create the dataviews that do not exist yet; returns those created."""
        with self.write() as tx:
            return [ref for ref in refs if tx.add_dataview(ref)]

    def add_connections(self, ids: Iterable[str]) -> None:
        with self.write() as tx:
            tx.add_connections(ids)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections.values():
                conn.close()
            self._connections.clear()
        self._local = threading.local()
