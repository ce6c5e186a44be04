"""The server's time, as its answers' ``Date`` headers tell it.

A snapshot's age is "now minus the job's ``created_at``", and ``created_at``
is the server's clock. A laptop or CI runner whose clock is off by minutes
would age every job wrongly, so ``now`` is the last ``Date`` seen plus the
time elapsed since on this machine's monotonic clock (which no NTP step
moves). ``Date`` has one-second resolution, which is plenty for ages counted
in minutes and hours. With no ``Date`` yet, the local clock is all there is.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["ServerClock", "date_header_time"]


def date_header_time(response: httpx.Response) -> datetime | None:
    """The time in the answer's ``Date`` header, or ``None`` when absent or unreadable."""
    value = response.headers.get("date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class ServerClock:
    """The server's current time, estimated from the ``Date`` of the latest answer."""

    def __init__(self) -> None:
        self._seen: tuple[datetime, float] | None = None

    def observe(self, response: httpx.Response) -> None:
        """Note the answer's ``Date``, if it has a readable one."""
        when = date_header_time(response)
        if when is not None:
            self._seen = (when, time.monotonic())

    def now(self) -> datetime:
        """The server's time now; the local clock until an answer had a ``Date``."""
        if self._seen is None:
            return datetime.now(UTC)
        when, at = self._seen
        return when + timedelta(seconds=time.monotonic() - at)
