"""Helpers for the Domo tests: the sandbox's admin routes, entries, an instant retry policy."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from reconciler.http.retry import RetryPolicy
from reconciler.providers.domo.client import DomoClient
from reconciler.providers.domo.connect import connect
from reconciler.providers.domo.entries import S3ExportEntry, entry_from_manifest

T = TypeVar("T")

DATASET = "6d2f4b1a-3c5e-4f7a-9b8c-0d1e2f3a4b5c"
OTHER_DATASET = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
# Fake, but shaped like real AWS credentials: a slash and a plus to escape.
ACCESS_KEY = "AKIAZZEXAMPLEKEY0001"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLE/SESSION+TOKEN=="
KMS_KEY = "arn:aws:kms:us-east-1:111122223333:key/EXAMPLE-KMS-KEY"
SECRETS = (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, KMS_KEY)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def entry(**fields: Any) -> S3ExportEntry:
    """A resolved manifest entry with every credential set; ``fields`` override."""
    item: dict[str, Any] = {
        "key": "daily-sales",
        "dataset_id": DATASET,
        "bucket": "acme-exports",
        "path": "domo/sales",
        "region": "us-east-1",
        "credentials": {
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "session_token": SESSION_TOKEN,
            "kms_key": KMS_KEY,
        },
        "max_age": "6h",
        **fields,
    }
    return entry_from_manifest(item)


class SleepLog:
    """A retry policy's ``sleep`` that notes each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def instant_retry(log: SleepLog, max_attempts: int = 6) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max_attempts,
        base_delay=1.0,
        max_delay=4.0,
        jitter=False,
        rng=random.Random(0),
        sleep=log,
    )


@dataclass(frozen=True)
class DomoSandbox:
    """A running Domo sandbox: its URL, token and database, and its admin routes."""

    root_url: str
    token: str
    db_path: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"X-DOMO-Developer-Token": self.token}

    def client(self, *, token: str | None = None, **options: Any) -> DomoClient:
        env = {"DOMO_BASE_URL": self.root_url, "DOMO_DEVELOPER_TOKEN": token or self.token}
        return connect(env, **options)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(
            method, f"{self.root_url}/_sandbox/domo{path}", json=body, headers=self.headers
        )
        response.raise_for_status()
        return response.json()

    def dataset(self, dataset_id: str = DATASET, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("POST", "/datasets", {"id": dataset_id, **fields})
        return result

    def bump(self, dataset_id: str = DATASET, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("POST", f"/datasets/{dataset_id}/bump", fields)
        return result

    def advance(self, seconds: float) -> None:
        self.admin("POST", "/clock", {"advance_s": seconds})

    def raw_exports(self, dataset_id: str = DATASET) -> httpx.Response:
        url = f"{self.root_url}/api/query/v1/export/{dataset_id}"
        return httpx.get(url, headers=self.headers)
