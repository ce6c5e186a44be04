"""The sandbox's side of ``Idempotency-Key``: run a keyed write once, replay its answer.

Decisions where the spec and the SDK say nothing (``docs/sandbox.md``):

- a key names one method and path; its first answer is stored with the change
  it made (in the same transaction) and replayed, byte for byte, to every
  later request with that key, whatever its body (two applies of one change
  send the same key but each its own marker salt);
- while the first attempt runs, a replay is answered 409 ``4GENR038``; a
  reservation older than ``ABANDONED_AFTER_S`` (its server died mid-request)
  is taken over;
- a write the server refused (4xx), or whose job failed, frees its key: it did
  not happen, so the same write may be sent again with it; keys expire after
  ``KEY_TTL_S``; a ``validate_only`` request changes nothing, so its key is
  echoed but not stored;
- with ``ignore_idempotency_keys`` the header is neither stored nor echoed,
  like a server without key support.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.providers.mammoth.idempotency import IN_PROGRESS_CODE
from reconciler.providers.mammoth.sandbox.store import Tx
from reconciler.sandbox.problems import HttpProblem, bad_request

__all__ = ["ABANDONED_AFTER_S", "KEY_TTL_S", "KeyedRequest", "Replay", "claim"]

KEY_TTL_S = 24 * 3600
ABANDONED_AFTER_S = 60
_MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class KeyedRequest:
    """A write that carried an ``Idempotency-Key``."""

    key: str
    request: str  # "METHOD /path": what the key was first used for


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


def claim(tx: Tx, keyed: KeyedRequest, now: float) -> Replay | None:
    """The stored answer to replay, or None after reserving the key for this request.

    Raises the 409 of a first attempt still running, or a 400 for a key
    first used for another method or path.
    """
    if not keyed.key or len(keyed.key) > _MAX_KEY_LENGTH:
        raise bad_request(f"Idempotency-Key must be 1 to {_MAX_KEY_LENGTH} characters")
    record = tx.key_record(keyed.key)
    fresh = record is not None and now - record["created_at"] < KEY_TTL_S
    if record is None or not fresh:
        tx.reserve_key(keyed.key, keyed.request, now)
        return None
    if record["request"] != keyed.request:
        raise bad_request(
            f"Idempotency-Key {keyed.key!r} was first used for {record['request']}, "
            f"not {keyed.request}; use a new key for another request"
        )
    if record["state"] == "done":
        return Replay(int(record["status_code"]), json.loads(record["body"]))
    if now - record["created_at"] >= ABANDONED_AFTER_S:
        tx.reserve_key(keyed.key, keyed.request, now)
        return None
    raise HttpProblem(
        409,
        f"a request with Idempotency-Key {keyed.key!r} is still running; "
        f"send it again when it has finished ({IN_PROGRESS_CODE})",
    )
