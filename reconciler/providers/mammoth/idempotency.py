"""Idempotency keys: the ``Idempotency-Key`` header that makes a write safe to resend.

Facts from Mammoth's current official SDK (``mammoth-io`` 0.8.52,
``client.py``): the server runs a write once per key and echoes the header
when it honours it; a replay whose first attempt is still running is
answered 409 with ``error_code`` ``4GENR038``. The client (``client.py``) and
the sandbox (``sandbox/idempotency.py``) both read these names from here.

exportctl derives a write's key from the change itself, never from anything
chosen per run, so that a retry after a lost answer, a rerun after a crash
and two applies of one manifest at once all send the same key for the same
change, and the server runs it once.
"""

from __future__ import annotations

import hashlib
from typing import Any

from reconciler.normalize import canonical_json

__all__ = ["HEADER", "IN_PROGRESS_CODE", "change_key"]

HEADER = "Idempotency-Key"
IN_PROGRESS_CODE = "4GENR038"
_VERSION = "exportctl-v1"


def change_key(
    dataview: str, export_key: str, action: str, target_id: int | None, desired: Any = None
) -> str:
    """The key of one change: which dataview and export, what is done, to which
    live export, and the desired spec (its secrets as ``secrets_stand_in``
    digests them: a rotated secret is another change, and the header does not
    let its readers test guesses).

    # Limitation: the same change made again later (an export deleted by hand,
    # then added again) sends the same key; a server that still remembers it
    # replays the first answer. Keys expire (the sandbox keeps them a day).
    """
    text = canonical_json([_VERSION, dataview, export_key, action, target_id, desired])
    return hashlib.sha256(text.encode()).hexdigest()
