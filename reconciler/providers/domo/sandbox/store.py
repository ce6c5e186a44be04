"""SQLite persistence for the Domo sandbox: DataSets and their exports.

Small on purpose: Domo's API is two calls per DataSet, so one connection
behind a lock serves every thread of the server, each operation one
``BEGIN IMMEDIATE`` transaction (read and write alike, so a check and the
insert it allows cannot interleave with another request's: the "one running
export per DataSet" rule holds under concurrent POSTs).

What is stored is what the sandbox must remember to answer like Domo: a
DataSet's data version (what "data unchanged" compares) and row count, and
each export's destination, times and outcome, and what its file holds
(the query's columns, the BOM). Credentials never reach the
database: Domo uses them once and does not keep them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.sandbox.sqlite import SqliteFile

__all__ = ["Store", "Tx"]

# Columns added after the first release: a database made before them gains them on open.
_ADDED_EXPORT_COLUMNS = {
    "columns": "TEXT NOT NULL DEFAULT '[]'",
    "include_bom": "INTEGER NOT NULL DEFAULT 0",
}
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    data_version INTEGER NOT NULL,
    row_count INTEGER NOT NULL,
    columns TEXT,
    readable INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS exports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    export_id TEXT NOT NULL UNIQUE,
    dataset_id TEXT NOT NULL REFERENCES datasets (id),
    data_version INTEGER NOT NULL,
    status TEXT NOT NULL,
    bucket TEXT NOT NULL,
    path TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    started REAL NOT NULL,
    due REAL NOT NULL,
    finished REAL,
    will_fail INTEGER NOT NULL,
    error_code TEXT,
    message TEXT,
    {", ".join(f"{name} {kind}" for name, kind in _ADDED_EXPORT_COLUMNS.items())}
);
CREATE INDEX IF NOT EXISTS exports_by_dataset ON exports (dataset_id, seq);
CREATE INDEX IF NOT EXISTS exports_running ON exports (status, due);
"""


class Tx:
    """One open transaction; the service's only way to the tables."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def dataset(self, dataset_id: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        if row is None:
            return None
        record = dict(row)
        record["columns"] = None if record["columns"] is None else json.loads(record["columns"])
        record["readable"] = bool(record["readable"])
        return record

    def insert_dataset(
        self, dataset_id: str, row_count: int, columns: Sequence[str] | None, readable: bool
    ) -> None:
        names = None if columns is None else json.dumps(list(columns))
        self._conn.execute(
            "INSERT INTO datasets VALUES (?, 1, ?, ?, ?)",
            (dataset_id, row_count, names, int(readable)),
        )

    def bump_dataset(self, dataset_id: str, row_count: int | None) -> None:
        self._conn.execute(
            "UPDATE datasets SET data_version = data_version + 1, "
            "row_count = coalesce(?, row_count) WHERE id = ?",
            (row_count, dataset_id),
        )

    def exports(self, dataset_id: str) -> list[dict[str, Any]]:
        sql = "SELECT * FROM exports WHERE dataset_id = ? ORDER BY seq"
        return [_export(row) for row in self._conn.execute(sql, (dataset_id,))]

    def insert_export(self, values: Mapping[str, Any]) -> None:
        row = {**values, "columns": json.dumps(list(values["columns"]))}
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        sql = f"INSERT INTO exports ({names}) VALUES ({marks})"
        self._conn.execute(sql, tuple(row.values()))

    def finish_due_exports(self, now: float, error_code: str, message: str) -> list[dict[str, Any]]:
        """Every running export whose time has come ends, as its ``will_fail`` says.

        Returns the ones that succeeded, so the caller writes their files in
        the same transaction that makes them ``success``.
        """
        succeeding = self._conn.execute(
            "SELECT * FROM exports WHERE status = 'exporting' AND due <= ? AND will_fail = 0 "
            "ORDER BY seq",
            (now,),
        ).fetchall()
        self._conn.execute(
            "UPDATE exports SET finished = due, "
            "status = CASE will_fail WHEN 1 THEN 'error' ELSE 'success' END, "
            "error_code = CASE will_fail WHEN 1 THEN ? END, "
            "message = CASE will_fail WHEN 1 THEN ? END "
            "WHERE status = 'exporting' AND due <= ?",
            (error_code, message, now),
        )
        return [_export(row) for row in succeeding]


def _export(row: sqlite3.Row) -> dict[str, Any]:
    record = dict(row)
    record["columns"] = tuple(json.loads(record["columns"]))
    record["include_bom"] = bool(record["include_bom"])
    return record


class Store(SqliteFile[Tx]):
    """The sandbox database file, created on first use."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA, Tx, _add_export_columns)


def _add_export_columns(conn: sqlite3.Connection) -> None:
    """Columns added since the first Domo sandbox, so its older files keep working."""
    known = {row["name"] for row in conn.execute("PRAGMA table_info(exports)")}
    for name, kind in _ADDED_EXPORT_COLUMNS.items():
        if name not in known:
            conn.execute(f"ALTER TABLE exports ADD COLUMN {name} {kind}")
