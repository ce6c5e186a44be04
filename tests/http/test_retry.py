"""Backoff, Retry-After parsing and the retry verdicts: pure functions, no I/O."""

import asyncio
import random
from datetime import UTC, datetime

import httpx
import pytest

from reconciler.http.retry import RetryPolicy, Verdict, classify, parse_retry_after

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        ("0.05", 0.05),
        (" 2 ", 2.0),
        ("0", 0.0),
        ("-4", 0.0),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 11:59:00 GMT", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_backoff_without_jitter_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.2, max_delay=1.0, jitter=False)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.0, 1.0]


def test_full_jitter_stays_between_zero_and_the_cap_and_is_seeded() -> None:
    first = RetryPolicy(base_delay=0.2, max_delay=1.0, rng=random.Random(7))
    second = RetryPolicy(base_delay=0.2, max_delay=1.0, rng=random.Random(7))
    delays = [first.backoff(n) for n in range(1, 50)]
    assert delays == [second.backoff(n) for n in range(1, 50)]
    assert all(0.0 <= d <= min(1.0, 0.2 * 2 ** (n - 1)) for n, d in enumerate(delays, 1))
    assert len(set(delays)) > 40  # jittered, not constant


def test_huge_attempt_numbers_do_not_overflow() -> None:
    assert RetryPolicy(max_delay=10, jitter=False).backoff(10_000) == 10


@pytest.mark.parametrize(("hint", "delay"), [(0.5, 0.5), (60.0, 10.0), (0.0, 0.0)])
def test_retry_after_wins_over_backoff_but_is_capped(hint: float, delay: float) -> None:
    policy = RetryPolicy(base_delay=3, max_delay=10, jitter=False)
    assert policy.delay(1, hint) == delay


def test_delay_falls_back_to_backoff_without_a_hint() -> None:
    assert RetryPolicy(base_delay=3, max_delay=10, jitter=False).delay(2) == 6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be at least 1"),
        ({"base_delay": -1}, "delays must not be negative"),
    ],
)
def test_policy_rejects_nonsense(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_default_sleep_really_sleeps() -> None:
    async def timed() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await RetryPolicy().sleep(0.02)
        return loop.time() - start

    assert asyncio.run(timed()) >= 0.015


@pytest.mark.parametrize(
    ("method", "status", "verdict"),
    [
        ("GET", 200, Verdict.ACCEPT),
        ("GET", 404, Verdict.ACCEPT),
        ("GET", 500, Verdict.ACCEPT),
        ("GET", 429, Verdict.RETRY),
        ("GET", 502, Verdict.RETRY),
        ("GET", 503, Verdict.RETRY),
        ("GET", 504, Verdict.RETRY),
        ("DELETE", 503, Verdict.RETRY),
        ("POST", 201, Verdict.ACCEPT),
        ("POST", 400, Verdict.ACCEPT),
        ("POST", 429, Verdict.RETRY),
        ("POST", 500, Verdict.MAYBE_LANDED),
        ("POST", 503, Verdict.MAYBE_LANDED),
        ("PATCH", 504, Verdict.MAYBE_LANDED),
        ("PATCH", 429, Verdict.RETRY),
    ],
)
def test_status_verdicts(method: str, status: int, verdict: Verdict) -> None:
    assert classify(method, status=status) is verdict


@pytest.mark.parametrize(
    ("method", "error", "verdict"),
    [
        ("GET", httpx.ConnectError, Verdict.RETRY),
        ("GET", httpx.ReadTimeout, Verdict.RETRY),
        ("GET", httpx.RemoteProtocolError, Verdict.RETRY),
        ("DELETE", httpx.ReadError, Verdict.RETRY),
        ("POST", httpx.ConnectError, Verdict.RETRY),
        ("POST", httpx.ConnectTimeout, Verdict.RETRY),
        ("POST", httpx.PoolTimeout, Verdict.RETRY),
        ("POST", httpx.ReadTimeout, Verdict.MAYBE_LANDED),
        ("POST", httpx.WriteTimeout, Verdict.MAYBE_LANDED),
        ("POST", httpx.ReadError, Verdict.MAYBE_LANDED),
        ("PATCH", httpx.RemoteProtocolError, Verdict.MAYBE_LANDED),
        ("GET", httpx.UnsupportedProtocol, Verdict.FAIL),
        ("POST", httpx.LocalProtocolError, Verdict.FAIL),
    ],
)
def test_transport_error_verdicts(
    method: str, error: type[httpx.TransportError], verdict: Verdict
) -> None:
    assert classify(method, error=error) is verdict


def test_classify_needs_an_outcome() -> None:
    with pytest.raises(ValueError, match="needs a status or an error"):
        classify("GET")
