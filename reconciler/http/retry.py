"""When to send a request again, and how long to wait first.

Two questions decide a retry, and they are kept apart:

- *May* the request be sent again? ``classify`` answers from the method and
  the outcome alone. Reads and deletes are idempotent, so any transient failure
  may be retried. A POST or PATCH may only be repeated when it certainly did
  not reach the server (throttled with 429, or the connection never opened);
  when it may have landed (a 5xx, a dropped connection or a read timeout after
  the body was sent) repeating it could add a second export, so the caller must
  look before resending.
- *How long* to wait? ``RetryPolicy.delay``: exponential backoff with full
  jitter, unless the server said how long with ``Retry-After``.

Randomness and sleeping live in the policy so that tests run instantly and
deterministically.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum

import httpx

from reconciler.http.transport import AnswerTooSlowError, UnreadableAnswerError

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryPolicy",
    "Verdict",
    "classify",
    "parse_retry_after",
]

# Statuses that say "not now" rather than "never": throttling and gateway trouble.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

# Methods whose repetition cannot change the outcome (a repeated DELETE finds
# the export already gone, which the client reports as such).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})

# Failures raised before a single byte of the request left this machine.
NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)

# Transient transport failures: worth another try when repeating is safe.
TRANSIENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


# The server took the request but its answer is not worth waiting for or
# reading: no whole answer within the deadline, too large, broken encoding.
ANSWERED_BADLY: tuple[type[httpx.TransportError], ...] = (
    AnswerTooSlowError,
    UnreadableAnswerError,
)


class Verdict(Enum):
    """What to do with one attempt's outcome."""

    ACCEPT = "accept"  # hand the response to the caller (success or a final error)
    RETRY = "retry"  # send the same request again after a delay
    MAYBE_LANDED = "maybe_landed"  # a mutation may have taken effect: do not repeat blindly
    FAIL = "fail"  # a transport failure that another try will not cure


def classify(
    method: str,
    *,
    status: int | None = None,
    error: type[BaseException] | None = None,
) -> Verdict:
    """Judge one attempt from its HTTP ``status`` or its transport ``error`` type."""
    idempotent = method.upper() in IDEMPOTENT_METHODS
    if error is not None:
        return _classify_error(idempotent, error)
    if status is None:
        raise ValueError("classify needs a status or an error")
    if status in RETRYABLE_STATUSES and (idempotent or status == 429):
        return Verdict.RETRY
    if status >= 500 and not idempotent:
        return Verdict.MAYBE_LANDED
    return Verdict.ACCEPT


def _classify_error(idempotent: bool, error: type[BaseException]) -> Verdict:
    if issubclass(error, NOT_SENT_ERRORS):
        return Verdict.RETRY
    if issubclass(error, ANSWERED_BADLY):
        # Another try would meet the same server: give up, unless a write may have landed.
        return Verdict.FAIL if idempotent else Verdict.MAYBE_LANDED
    if not issubclass(error, TRANSIENT_ERRORS):
        return Verdict.FAIL
    return Verdict.RETRY if idempotent else Verdict.MAYBE_LANDED


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or None when absent or unreadable.

    The header holds either seconds (we also accept fractions, as some servers
    send them) or an HTTP date; a date in the past means "now".
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until(text, now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(seconds, 0.0)


def _seconds_until(http_date: str, now: datetime | None) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one came without a zone
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max((when - reference).total_seconds(), 0.0)


async def _asyncio_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a request gets and how long to wait between them.

    ``jitter=True`` is "full jitter": a delay drawn uniformly from zero to the
    exponential cap, which spreads out clients that failed together (a burst
    of 429s from one apply with high ``--parallelism``). ``rng`` and ``sleep``
    are injectable for tests.
    """

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    jitter: bool = True
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)
    sleep: Callable[[float], Awaitable[None]] = field(
        default=_asyncio_sleep, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, attempt: int) -> float:
        """The delay after failed attempt number ``attempt`` (1-based), without a hint."""
        exponent = min(attempt - 1, 62)  # keeps 2**exponent a float far below overflow
        cap = min(self.max_delay, self.base_delay * 2.0**exponent)
        return self.rng.uniform(0.0, cap) if self.jitter else cap

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The delay before the next attempt; the server's ``Retry-After`` wins, capped."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return self.backoff(attempt)
