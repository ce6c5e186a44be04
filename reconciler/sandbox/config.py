"""The fault knobs every provider's sandbox shares (each reads its own credentials).

A frozen dataclass so a running server can swap its whole configuration
atomically (``PUT /_sandbox/faults``) and tests can compare configurations.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["FAULT_KNOBS", "CommitThenFailMode", "SandboxConfig"]

CommitThenFailMode = Literal["503", "drop"]

_RATES = ("error_rate", "throttle_rate", "job_rate", "job_failure_rate", "commit_then_fail_rate")
_NON_NEGATIVE = ("latency_ms", "retry_after_s", "job_delay_ms", "commit_then_fail_every")


@dataclass(frozen=True)
class SandboxConfig:
    """What the sandbox accepts and how badly it behaves.

    Every fault is drawn from ``random.Random(seed)`` in request order, so a
    test that sends the same requests in the same order sees the same faults.
    """

    latency_ms: float = 0
    error_rate: float = 0
    throttle_rate: float = 0
    retry_after_s: float = 1
    # Mammoth answers adds and edits 202 with a job (its spec); 0 answers at once.
    job_rate: float = 1
    job_delay_ms: float = 50
    job_failure_rate: float = 0
    commit_then_fail_rate: float = 0
    commit_then_fail_every: int = 0
    commit_then_fail_mode: CommitThenFailMode = "503"
    # Run a keyed write again on every retry, like a server without
    # Idempotency-Key support (Mammoth's sandbox honours keys by default).
    ignore_idempotency_keys: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name in _RATES:
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        for name in _NON_NEGATIVE:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        ignore = self.ignore_idempotency_keys
        if not isinstance(ignore, bool):
            raise ValueError(f"ignore_idempotency_keys must be true or false, got {ignore!r}")
        if self.commit_then_fail_mode not in ("503", "drop"):
            raise ValueError(
                f"commit_then_fail_mode must be '503' or 'drop', got {self.commit_then_fail_mode!r}"
            )

    def with_faults(self, **knobs: Any) -> SandboxConfig:
        """A copy with some fault knobs changed."""
        unknown = sorted(set(knobs) - set(FAULT_KNOBS))
        if unknown:
            raise ValueError(f"unknown fault knob(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **knobs)

    def faults(self) -> dict[str, Any]:
        """The fault knobs as plain data."""
        return {name: getattr(self, name) for name in FAULT_KNOBS}


FAULT_KNOBS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SandboxConfig))
