"""Seeded, deterministic fault injection.

Every decision draws from one ``random.Random(seed)`` under a lock, a fixed
number of draws per decision point, so the same requests in the same order
meet the same faults whatever the thread timing inside the server.
"""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any, Literal

from reconciler.sandbox.config import SandboxConfig

__all__ = ["Faults", "RequestFault", "RequestRefusal"]

RequestFault = Literal["error", "throttle"]


class RequestRefusal:
    """What a request fault answers, in words every provider's error body can carry.

    ``status`` is 503 or 429; ``message`` says it is a sandbox fault (so no
    one mistakes it for the platform's); ``retry_after`` is the header value
    for a 429.
    """

    def __init__(self, status: int, message: str, retry_after: str | None = None) -> None:
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": self.retry_after} if self.retry_after is not None else {}


class Faults:
    """The live fault configuration of one running sandbox."""

    def __init__(self, config: SandboxConfig) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._rng = random.Random(config.seed)
        self._mutations = 0

    @property
    def config(self) -> SandboxConfig:
        return self._config

    def reconfigure(self, **knobs: Any) -> SandboxConfig:
        """Change knobs; the random stream and the mutation count start over."""
        with self._lock:
            self._config = self._config.with_faults(**knobs)
            self._rng = random.Random(self._config.seed)
            self._mutations = 0
            return self._config

    def request_fault(self) -> RequestFault | None:
        """Drawn once per API request, before anything else happens."""
        with self._lock:
            error, throttle = self._rng.random(), self._rng.random()
            if error < self._config.error_rate:
                return "error"
            if throttle < self._config.throttle_rate:
                return "throttle"
            return None

    async def before_request(self) -> RequestRefusal | None:
        """The latency knob, then one draw: how this API request is refused, if it is."""
        config = self._config
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        fault = self.request_fault()
        if fault == "error":
            return RequestRefusal(503, "sandbox fault: service unavailable (error_rate)")
        if fault == "throttle":
            after = f"{config.retry_after_s:g}"
            return RequestRefusal(
                429, f"sandbox fault: too many requests, retry after {after} s", after
            )
        return None

    def job_plan(self) -> tuple[bool, bool]:
        """For a mutation: (answer 202 with a job?, will that job fail?)."""
        with self._lock:
            as_job, fails = self._rng.random(), self._rng.random()
            return as_job < self._config.job_rate, fails < self._config.job_failure_rate

    def after_commit(self) -> Literal["503", "drop"] | None:
        """For a committed mutation: answer it with a failure instead?"""
        with self._lock:
            self._mutations += 1
            every = self._config.commit_then_fail_every
            by_count = every > 0 and self._mutations % every == 0
            by_rate = self._rng.random() < self._config.commit_then_fail_rate
            return self._config.commit_then_fail_mode if by_count or by_rate else None
