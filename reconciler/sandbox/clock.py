"""The sandbox's clock: real time plus an offset that tests move forward.

Snapshots expire (Mailgun's exports after 24 hours) and go stale (``max_age``),
so a test must be able to make a day pass in a millisecond. Every provider's
sandbox reads the time from one ``SandboxClock`` instead of ``time.time()``;
``advance`` moves it forward (never back: a server's clock does not run
backwards, and timestamps already written would then lie in the future).
The server tells clients its time in each answer's ``Date`` header, as real
servers do, so a client that ages snapshots by the server's clock stays right
when the offset moves.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import formatdate

from starlette.types import Message, Send

__all__ = ["SandboxClock", "dated"]


class SandboxClock:
    """Wall-clock time shifted by an offset that only grows."""

    def __init__(self, offset_s: float = 0.0) -> None:
        if offset_s < 0:
            raise ValueError("a clock offset must be >= 0")
        self._offset_s = offset_s
        self._lock = threading.Lock()

    @property
    def offset_s(self) -> float:
        return self._offset_s

    def now(self) -> float:
        """Seconds since the epoch, as the sandbox sees them."""
        return time.time() + self._offset_s

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds``; returns the new offset."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset_s += seconds
            return self._offset_s


def dated(send: Send, clock: SandboxClock) -> Send:
    """``send`` with each answer's ``Date`` header set from ``clock`` (one, replacing any)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            date = formatdate(clock.now(), usegmt=True).encode()
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
            message = {**message, "headers": [*headers, (b"date", date)]}
        await send(message)

    return sending
