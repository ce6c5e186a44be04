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
