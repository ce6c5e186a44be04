"""SQLite for the data-tools sandbox: users, sessions, datasources, templates, jobs.

One connection behind one lock, each operation one transaction: the sandbox
serves a test or a developer, not a crowd, and a single writer can never
meet "database is locked". Times are seconds since the epoch on the
sandbox's clock (``SandboxClock``), which tests move forward; JSON columns
come back decoded. The service and worker never see SQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.sandbox.sqlite import SqliteFile

__all__ = ["Store", "Tx"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    is_superuser INTEGER NOT NULL,
    can_log_in INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
    key TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS datasources (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT,                -- NULL: owned by whoever the sandbox's login user is
    row_count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS templates (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    user TEXT NOT NULL,
    template_type TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    configuration TEXT NOT NULL,
    usage_count INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (user, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    datasource_id TEXT NOT NULL,
    status TEXT NOT NULL,
    format TEXT NOT NULL,
    filters TEXT NOT NULL,
    progress INTEGER NOT NULL,
    file_path TEXT NOT NULL,
    file_size INTEGER,
    row_count INTEGER,
    error_message TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    completed_at REAL,
    expires_at REAL,
    run_at REAL,               -- when the worker picks it up; NULL: never
    finish_at REAL NOT NULL,   -- when the worker is done with it
    worker_active INTEGER NOT NULL DEFAULT 0,
    failure TEXT,              -- the worker's error message, decided at creation; NULL: success
    content BLOB               -- the exported file, once written
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS jobs_by_user ON jobs (user, created_at);
"""
_JSON_COLUMNS = frozenset({"configuration", "filters"})
_BOOL_COLUMNS = frozenset({"is_superuser", "can_log_in", "is_active", "worker_active"})


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    record = dict(row)
    for name in _JSON_COLUMNS & record.keys():
        record[name] = json.loads(record[name])
    for name in _BOOL_COLUMNS & record.keys():
        record[name] = bool(record[name])
    return record


def _encode(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v) if k in _JSON_COLUMNS else v for k, v in values.items()}


class Tx:
    """One open transaction: the only way the sandbox's rules touch the database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _one(self, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
        row = self._conn.execute(sql, params).fetchone()
        return None if row is None else _decode(row)

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return [_decode(row) for row in self._conn.execute(sql, params)]

    def _insert(self, table: str, values: Mapping[str, Any]) -> None:
        encoded = _encode(values)
        names, marks = ", ".join(encoded), ", ".join("?" for _ in encoded)
        self._conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", (*encoded.values(),))

    def _update(self, table: str, key: str, key_value: str, values: Mapping[str, Any]) -> None:
        encoded = _encode(values)
        assignments = ", ".join(f"{name} = ?" for name in encoded)
        sql = f"UPDATE {table} SET {assignments} WHERE {key} = ?"
        self._conn.execute(sql, (*encoded.values(), key_value))

    # -- users and sessions ----------------------------------------------------------

    def user(self, username: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM users WHERE username = ?", (username,))

    def put_user(self, values: Mapping[str, Any]) -> None:
        self._conn.execute("DELETE FROM users WHERE username = ?", (values["username"],))
        self._insert("users", values)

    def add_session(self, key: str, username: str, expires_at: float) -> None:
        self._insert("sessions", {"key": key, "username": username, "expires_at": expires_at})

    def session_user(self, key: str, now: float) -> str | None:
        found = self._one(
            "SELECT username FROM sessions WHERE key = ? AND expires_at > ?", (key, now)
        )
        return None if found is None else str(found["username"])

    def end_sessions(self) -> int:
        return self._conn.execute("DELETE FROM sessions").rowcount

    # -- datasources -------------------------------------------------------------------

    def datasource(self, datasource_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM datasources WHERE id = ?", (datasource_id,))

    def datasources(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM datasources ORDER BY name")

    def add_datasource(self, values: Mapping[str, Any]) -> None:
        self._insert("datasources", values)

    # -- templates ---------------------------------------------------------------------

    def template(self, template_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM templates WHERE id = ?", (template_id,))

    def visible_templates(self, username: str) -> list[dict[str, Any]]:
        """The user's own and every system or shared template, active ones only, as listed."""
        sql = (
            "SELECT * FROM templates WHERE (user = ? OR template_type IN ('system', 'shared')) "
            "AND is_active ORDER BY usage_count DESC, updated_at DESC"
        )
        return self._all(sql, (username,))

    def template_name_taken(self, username: str, name: str) -> bool:
        sql = "SELECT 1 FROM templates WHERE user = ? AND name = ?"
        return self._conn.execute(sql, (username, name)).fetchone() is not None

    def add_template(self, values: Mapping[str, Any]) -> None:
        self._insert("templates", values)

    def update_template(self, template_id: str, values: Mapping[str, Any]) -> None:
        self._update("templates", "id", template_id, values)

    def delete_template(self, template_id: str) -> None:
        self._conn.execute("DELETE FROM templates WHERE id = ?", (template_id,))

    def has_users(self) -> bool:
        return self._conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    # -- jobs ----------------------------------------------------------------------------

    def job(self, job_id: str, username: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM jobs WHERE id = ? AND user = ?", (job_id, username))

    def jobs_of(self, username: str) -> list[dict[str, Any]]:
        """A user's jobs, newest first (the listing's order)."""
        return self._all("SELECT * FROM jobs WHERE user = ? ORDER BY created_at DESC", (username,))

    def jobs_due(self, now: float) -> list[dict[str, Any]]:
        """Jobs the worker has something to do with by ``now``, oldest first."""
        sql = (
            "SELECT * FROM jobs WHERE worker_active "
            "OR (status = 'pending' AND run_at <= ?) ORDER BY created_at"
        )
        return self._all(sql, (now,))

    def expired_completed_jobs(self, now: float) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM jobs WHERE status = 'completed' AND expires_at < ?", (now,))

    def add_job(self, values: Mapping[str, Any]) -> None:
        self._insert("jobs", values)

    def update_job(self, job_id: str, values: Mapping[str, Any]) -> None:
        self._update("jobs", "id", job_id, values)

    def delete_job(self, job_id: str) -> None:
        self._conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))


class Store(SqliteFile[Tx]):
    """The sandbox database: one file, one connection, one transaction at a time."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA, Tx)
