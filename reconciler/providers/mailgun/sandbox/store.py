"""SQLite persistence for the Mailgun sandbox: exports, list rows, settings.

Why it looks like this:

- One connection behind one lock. Mailgun's exports API sees a handful of
  requests per plan (one list, a create per stale snapshot), so serializing
  them costs nothing, and the lock makes "no export of this URL is running,
  so create one" a single atomic step, as the API's one-per-URL rule needs.
- Times are the sandbox clock's Unix seconds, written by the service; the
  store never reads a clock, so moving the clock moves everything.
- An export's id is derived from its row: the creation second as 8 hex
  digits, then the row number as 16, which is the shape (a MongoDB
  ObjectId, time first) that real ids have and that clients read ages from.
- The CSV is written when the export is created: a snapshot of the data at
  that moment, as a real export is.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.sandbox.sqlite import SqliteFile

__all__ = ["Store", "StoredExport", "Tx"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    created_at REAL NOT NULL,
    due_at REAL,
    csv BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS exports_by_url ON exports (url, created_at);
CREATE TABLE IF NOT EXISTS list_rows (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    row TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS list_rows_by_url ON list_rows (url, seq);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""
_ID_DIGITS = 24


@dataclass(frozen=True)
class StoredExport:
    """One export row. ``due_at`` is when it completes; ``None``: never."""

    seq: int
    url: str
    created_at: float
    due_at: float | None
    csv: bytes

    @property
    def id(self) -> str:
        return f"{int(self.created_at):08x}{self.seq:016x}"


def _seq_of(export_id: str) -> int | None:
    if len(export_id) != _ID_DIGITS:
        return None
    try:
        return int(export_id[8:], 16)
    except ValueError:
        return None


def _export(row: sqlite3.Row) -> StoredExport:
    return StoredExport(row["seq"], row["url"], row["created_at"], row["due_at"], row["csv"])


class Tx:
    """One open transaction: the only way the service touches the database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def exports(self, since: float, url: str | None = None) -> list[StoredExport]:
        """Exports created after ``since``, oldest first; of one URL when given."""
        sql = "SELECT * FROM exports WHERE created_at > ?"
        params: tuple[Any, ...] = (since,)
        if url is not None:
            sql += " AND url = ?"
            params += (url,)
        rows = self._conn.execute(sql + " ORDER BY created_at, seq", params)
        return [_export(row) for row in rows]

    def export(self, export_id: str) -> StoredExport | None:
        """The export with this id; ``None`` for an unknown or malformed one."""
        seq = _seq_of(export_id)
        if seq is None:
            return None
        row = self._conn.execute("SELECT * FROM exports WHERE seq = ?", (seq,)).fetchone()
        found = None if row is None else _export(row)
        return found if found is not None and found.id == export_id.lower() else None

    def insert_export(
        self, url: str, created_at: float, due_at: float | None, csv: bytes
    ) -> StoredExport:
        cursor = self._conn.execute(
            "INSERT INTO exports (url, created_at, due_at, csv) VALUES (?, ?, ?, ?)",
            (url, created_at, due_at, csv),
        )
        assert cursor.lastrowid is not None
        return StoredExport(cursor.lastrowid, url, created_at, due_at, csv)

    def rows(self, url: str) -> list[dict[str, Any]]:
        """The rows of the API list at ``url``, in the order they were added."""
        found = self._conn.execute("SELECT row FROM list_rows WHERE url = ? ORDER BY seq", (url,))
        return [json.loads(text) for (text,) in found]

    def add_rows(self, url: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Append rows to a list; returns how many the list holds now."""
        self._conn.executemany(
            "INSERT INTO list_rows (url, row) VALUES (?, ?)",
            [(url, json.dumps(dict(row))) for row in rows],
        )
        count: int = self._conn.execute(
            "SELECT count(*) FROM list_rows WHERE url = ?", (url,)
        ).fetchone()[0]
        return count

    def setting(self, name: str) -> str | None:
        row = self._conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, name: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (name, value))


class Store(SqliteFile[Tx]):
    """The sandbox database file, created with its tables if missing."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA, Tx)
        with self.transaction() as tx:
            key = tx.setting("signing_key")
            if key is None:
                key = secrets.token_hex(32)
                tx.set_setting("signing_key", key)
        # Kept across restarts, so links handed out before a restart still work.
        self.signing_key = bytes.fromhex(key)
