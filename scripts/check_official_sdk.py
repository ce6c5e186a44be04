"""Check that the official Mammoth SDK works unchanged against the sandbox.

Run by hand; the SDK (``mammoth-io``) needs Python 3.12 or newer, so it runs
in its own virtualenv, apart from exportctl's:

    exportctl sandbox serve --port 8799 --db /tmp/sdk-check.db --seed scripts/sdk_check_seed.yaml
    python3.12 -m venv /tmp/sdk && /tmp/sdk/bin/pip install mammoth-io
    /tmp/sdk/bin/python scripts/check_official_sdk.py --base-url http://127.0.0.1:8799/api/v2

Each step prints one line and asserts what the SDK got back; the first
mismatch stops with a traceback (this is a developer's tool, not exportctl).
Use a fresh database: the sandbox refuses a second export writing sdk.csv.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import httpx
from mammoth import MammothClient  # type: ignore[import-not-found]
from mammoth.models.exports import (  # type: ignore[import-not-found]
    AddExportSpec,
    HandlerType,
    S3TargetProperties,
    TriggerType,
)

W, P, D, V = 1, 1, 123, 456
HEADERS = {"X-API-KEY": "sandbox", "X-API-SECRET": "sandbox"}


def s3_spec(file: str, *, validate_only: bool = False) -> Any:
    target = S3TargetProperties(
        file=file, file_type="csv", include_hidden=False, is_format_set=True, use_format=True
    )
    return AddExportSpec(
        DATAVIEW_ID=V,
        handler_type=HandlerType.S3,
        trigger_type=TriggerType.PIPELINE,
        target_properties=target,
        run_immediately=True,
        validate_only=validate_only,
    )


async def check(base_url: str) -> None:
    client = MammothClient(
        api_key="sandbox",
        api_secret="sandbox",
        workspace_id=W,
        base_url=base_url,
        allow_insecure_loopback_http=True,
    )
    client.set_project_id(P)
    exports = client.exports

    dry = await exports.create(V, s3_spec("sdk.csv", validate_only=True), dataset_id=D)
    assert dry.status is None, dry
    print("validate_only add: accepted, nothing stored")

    created = await exports.create(V, s3_spec("sdk.csv"), dataset_id=D)
    assert created.trigger_id > 0, created
    print(f"add: 201, export {created.trigger_id} ({created.status.value})")

    page = await exports.list(V, fields="__full", dataset_id=D, handler_type=HandlerType.S3)
    assert [e.id for e in page.exports] == [created.trigger_id], page
    print(f"list with fields/handler_type: {len(page.exports)} export, next={page.next!r}")

    one = await exports.get(V, created.trigger_id, dataset_id=D)
    assert one["target_properties"]["file"] == "sdk.csv", one
    print("get: target_properties as written, defaults filled in")

    patched = await exports.update(
        V, created.trigger_id, [{"op": "command", "path": "suspend", "value": None}], dataset_id=D
    )
    assert patched["status"] == "suspended", patched
    print("PATCH suspend: suspended")

    async with httpx.AsyncClient() as admin:  # answer every mutation with a job from now on
        root = base_url.removesuffix("/api/v2")
        await admin.put(f"{root}/_sandbox/faults", json={"job_rate": 1}, headers=HEADERS)
    queued = await exports.create(V, s3_spec("sdk2.csv"), dataset_id=D)
    job = await client.jobs.wait_for_job(queued.job.id)
    assert job["status"] == "success" and job["response"]["trigger_id"] > 0, job
    print(f"add answered 202: job {queued.job.id} succeeded with the new export's id")

    deleted = await exports.delete(V, created.trigger_id, dataset_id=D)
    assert "job" in deleted, deleted
    print("delete answered 202 with a job")
    print("The official SDK works unchanged against the sandbox.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base-url", default="http://127.0.0.1:8799/api/v2")
    asyncio.run(check(parser.parse_args().base_url))


if __name__ == "__main__":
    main()
