from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reconciler.sandbox.sqlite import SqliteFile


def _rows(db: SqliteFile[sqlite3.Connection]) -> list[int]:
    with db.transaction() as tx:
        return [row["n"] for row in tx.execute("SELECT n FROM t ORDER BY n")]


def test_a_transaction_commits_and_a_failed_one_leaves_nothing(tmp_path: Path) -> None:
    db = SqliteFile(tmp_path / "s.db", "CREATE TABLE IF NOT EXISTS t (n INTEGER)", lambda c: c)
    with db.transaction() as tx:
        tx.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("a fault half way")
    assert _rows(db) == [1]
    db.close()
    again = SqliteFile(tmp_path / "s.db", "CREATE TABLE IF NOT EXISTS t (n INTEGER)", lambda c: c)
    assert _rows(again) == [1]  # kept across a restart
    again.close()
