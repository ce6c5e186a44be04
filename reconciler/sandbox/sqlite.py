"""The SQLite file under a provider's sandbox: one connection, one writer at a time.

Every provider's sandbox store keeps its data the same way: a connection
shared by the server's threads (the threadpool takes turns under a lock),
WAL so readers of the file (tests, a second process) never block the
server, and transactions that roll back when the block raises, so a fault
injected half way leaves nothing half written. A store subclass adds its
schema and wraps the connection in its own typed transaction (``make_tx``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

__all__ = ["SqliteFile"]


TxT = TypeVar("TxT")


class SqliteFile(Generic[TxT]):
    """An SQLite file with ``schema`` applied, handing out ``make_tx(connection)``."""

    def __init__(
        self,
        path: str | Path,
        schema: str,
        make_tx: Callable[[sqlite3.Connection], TxT],
        upgrade: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """``upgrade`` brings a file made by an older sandbox up to ``schema`` (new columns)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._make_tx = make_tx
        self._lock = threading.Lock()
        # check_same_thread=False: the threadpool's threads take turns under the lock.
        self._conn = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(schema)
        if upgrade is not None:
            upgrade(self._conn)

    @contextmanager
    def transaction(self) -> Iterator[TxT]:
        """One write transaction, committed when the block ends, rolled back if it raises."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._make_tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
