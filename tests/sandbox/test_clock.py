from __future__ import annotations

import time

import pytest

from reconciler.sandbox.clock import SandboxClock


def test_advance_moves_now_forward_by_the_offset() -> None:
    clock = SandboxClock()
    before = clock.now()
    assert clock.advance(25 * 3600) == 25 * 3600
    assert clock.now() - before >= 25 * 3600
    assert clock.now_datetime().timestamp() == pytest.approx(clock.now(), abs=1)


def test_the_clock_never_runs_backwards() -> None:
    clock = SandboxClock(10)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    with pytest.raises(ValueError):
        SandboxClock(-5)
    assert clock.now() >= time.time() + 10 - 1


def test_dated_answers_carry_one_date_from_the_clock() -> None:
    import asyncio
    from email.utils import parsedate_to_datetime

    from reconciler.sandbox.clock import dated

    clock = SandboxClock(48 * 3600)
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    start = {"type": "http.response.start", "status": 200, "headers": [(b"date", b"old")]}
    asyncio.run(dated(send, clock)(start))
    dates = [v for k, v in sent[0]["headers"] if k == b"date"]  # type: ignore[attr-defined]
    assert len(dates) == 1
    assert parsedate_to_datetime(dates[0].decode()).timestamp() == pytest.approx(clock.now(), abs=2)
