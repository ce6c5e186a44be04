"""What a ``--sandbox DB`` value is, when it cannot be a sandbox database.

``--sandbox`` takes an optional value, so ``apply --sandbox plan.json``
hands the plan to the sandbox as its database path. ``not_a_sandbox_db``
tells such a file apart, for the option to refuse it before anything opens
it (and so before any provider's sandbox creates tables in it).
"""

from __future__ import annotations

import re
from enum import Enum
from functools import cache
from pathlib import Path

from reconciler.providers import section_owners

__all__ = ["SQLITE_HEADER", "NotADatabase", "not_a_sandbox_db", "provider_file"]

# Every SQLite database file starts with these 16 bytes (the file format's header).
SQLITE_HEADER = b"SQLite format 3\x00"
# Enough of a file's start to tell a saved plan or a manifest from other text.
_SNIFF_BYTES = 4096


class NotADatabase(Enum):
    """What a ``--sandbox`` value is instead of a database; the value says it in words."""

    SAVED_PLAN = "looks like a saved plan (JSON)"
    MANIFEST = "looks like a manifest (YAML)"
    DIRECTORY = "is a directory"
    OTHER = "is not an SQLite database"


def not_a_sandbox_db(db: str) -> NotADatabase | None:
    """What ``db`` is when it cannot be a sandbox database, else ``None``.

    ``--sandbox`` takes an optional value, so ``apply --sandbox plan.json``
    hands the plan to the sandbox as its database path. An existing file that
    is not SQLite is never what the user meant, so callers refuse it before
    anything opens it. A missing or empty file is fine: the sandbox creates
    it. Reads the first few KiB only; never writes.
    """
    try:
        with Path(db).open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except IsADirectoryError:
        return NotADatabase.DIRECTORY
    except OSError:  # missing or unreadable: opening the sandbox says which
        return None
    if not head or head.startswith(SQLITE_HEADER):
        return None
    if head.lstrip().startswith((b"{", b"[")):
        return NotADatabase.SAVED_PLAN
    if _manifest_key().search(head):
        return NotADatabase.MANIFEST
    return NotADatabase.OTHER


def provider_file(db_path: Path, provider: str) -> Path:
    """Where a provider keeps its own sandbox data beside ``--sandbox``/``--db``'s file.

    Each provider's store owns its tables; one SQLite file each keeps them from
    ever colliding: ``.exportctl/sandbox.db`` gives ``.exportctl/sandbox-mailgun.db``.
    """
    return db_path.with_name(f"{db_path.stem}-{provider}{db_path.suffix or '.db'}")


@cache
def _manifest_key() -> re.Pattern[bytes]:
    """A top-level key only a manifest has: ``version`` or a provider's section."""
    names = "|".join(re.escape(name) for name in ("version", *section_owners()))
    return re.compile(rf"^({names})\s*:".encode(), re.MULTILINE)
