"""Helpers for the Mailgun tests: the running sandbox, instant retries, raw requests."""

from __future__ import annotations

import asyncio
import random
import ssl
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette

from reconciler.http.retry import RetryPolicy
from reconciler.providers.mailgun.client import MailgunClient
from reconciler.providers.mailgun.sandbox.app import sandbox_service
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.config import SandboxConfig

T = TypeVar("T")

AUTH = ("api", "sandbox")
HOUR = 3600
# Building an SSL context costs ~0.1 s, and httpx builds one per client.
_TLS = ssl.create_default_context()


@dataclass(frozen=True)
class RunningMailgun:
    """A Mailgun sandbox listening on loopback, and its clock."""

    app: Starlette
    root_url: str
    clock: SandboxClock
    db_path: Path

    def set_faults(self, **knobs: Any) -> SandboxConfig:
        return sandbox_service(self.app).faults.reconfigure(**knobs)

    def client(self, api_key: str = "sandbox", **options: Any) -> MailgunClient:
        return MailgunClient(self.root_url, api_key, **options)

    def http(self, auth: tuple[str, str] | None = AUTH) -> httpx.Client:
        """A plain HTTP client, for what the sandbox answers on the wire."""
        return httpx.Client(base_url=self.root_url, auth=auth, verify=_TLS)


def get(url: str | httpx.URL, auth: tuple[str, str] | None = None) -> httpx.Response:
    """One GET with no credentials unless given, as a presigned link is fetched."""
    with httpx.Client(verify=_TLS) as http:
        return http.get(url, auth=auth)


class Sleeps:
    """A retry policy's sleep: records each delay, returns at once, may run a hook."""

    def __init__(self, hook: Any = None) -> None:
        self.delays: list[float] = []
        self._hook = hook

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self._hook is not None:
            self._hook()


def instant(sleeps: Sleeps, *, attempts: int = 5, max_delay: float = 100.0) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=attempts,
        base_delay=1.0,
        max_delay=max_delay,
        jitter=False,
        rng=random.Random(1),
        sleep=sleeps,
    )


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)
