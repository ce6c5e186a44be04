"""Helpers shared by the client tests: an instant retry policy, a recording
transport over the real socket, and a check that no secret leaks from an error."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from reconciler.http.retry import RetryPolicy
from reconciler.providers.mammoth.model import DataviewRef

T = TypeVar("T")

REF = DataviewRef(1, 1, 1, 1)


def s3_body(file: str, key: str | None = None) -> dict[str, Any]:
    """An AddExportSpec for an S3 export; ``key`` becomes an exportctl marker."""
    body: dict[str, Any] = {
        "handler_type": "s3",
        "trigger_type": "none",
        "run_immediately": False,
        "target_properties": {"file": file, "file_type": "csv"},
    }
    if key is not None:
        body["additional_properties"] = {"exportctl": {"key": key, "applied": "h"}}
    return body


class SleepLog:
    """A policy's ``sleep`` that records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def instant_policy(log: SleepLog, *, max_attempts: int = 8, jitter: bool = False) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max_attempts,
        base_delay=1.0,
        max_delay=5.0,
        jitter=jitter,
        rng=random.Random(1),
        sleep=log,
    )


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real socket transport, counting requests in flight and noting each one."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.in_flight = 0
        self.peak = 0
        self.sent = 0  # requests whose body httpcore reports written
        self.requests: list[tuple[str, str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path, request.url.query.decode()))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        trace = request.extensions.get("trace")

        async def count_sent(event: str, info: dict[str, Any]) -> None:
            if event.endswith(".send_request_body.complete"):
                self.sent += 1
            if trace is not None:
                await trace(event, info)

        request.extensions = {**request.extensions, "trace": count_sent}
        try:
            response = await self._inner.handle_async_request(request)
            await response.aread()  # count the body too: the request is in flight until read
            return response
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self._inner.aclose()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def exception_chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def assert_leaks_nothing(error: BaseException, *secrets: str) -> None:
    """No secret in the message, repr or attributes of the error or anything chained."""
    for link in exception_chain(error):
        assert not isinstance(link, httpx.HTTPError)  # its request would carry the headers
        shown = [str(link), repr(link), *(repr(v) for v in vars(link).values())]
        for secret in secrets:
            assert all(secret not in text for text in shown)
