"""Check that the official Mammoth SDK works unchanged against the sandbox.

Drives every method of the SDK's ``client.exports`` and ``client.jobs``
(``mammoth-io`` 0.8.52), so each route it calls must answer as the SDK
expects. The SDK needs Python 3.12 or newer, so it runs in a virtualenv of
its own, apart from exportctl's:

    exportctl sandbox serve --port 8799 --db /tmp/sdk-check.db --seed scripts/sdk_check_seed.yaml
    python3.12 -m venv /tmp/sdk && /tmp/sdk/bin/pip install 'mammoth-io==0.8.52'
    /tmp/sdk/bin/python scripts/check_official_sdk.py --base-url http://127.0.0.1:8799/api/v2

Each step prints one line and asserts what the SDK got back; the first
mismatch stops with a traceback (this is a developer's tool, not exportctl).
Use a fresh database: the sandbox refuses a second export writing sdk.csv.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

import httpx
from mammoth import MammothClient  # type: ignore[import-not-found]
from mammoth.builders import build_export_spec  # type: ignore[import-not-found]
from mammoth.exceptions import MammothJobFailedError  # type: ignore[import-not-found]
from mammoth.models.exports import (  # type: ignore[import-not-found]
    AddExportSpec,
    HandlerType,
    OdbcType,
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


async def set_faults(base_url: str, **knobs: Any) -> None:
    async with httpx.AsyncClient() as admin:
        root = base_url.removesuffix("/api/v2")
        answer = await admin.put(f"{root}/_sandbox/faults", json=knobs, headers=HEADERS)
        answer.raise_for_status()


async def check_exports(client: Any, base_url: str) -> int:
    exports, jobs = client.exports, client.jobs

    dry = await exports.create(V, s3_spec("sdk.csv", validate_only=True), dataset_id=D)
    assert dry.status is None, dry
    print("create(validate_only): accepted, nothing stored")

    queued = await exports.create(V, s3_spec("sdk.csv"))  # dataset found by the SDK's lookup
    done = await jobs.wait_for_job(queued.job.id)
    export_id = done["response"]["trigger_id"]
    assert done["status"] == "success" and export_id > 0, done
    print(f"create: 202, job {queued.job.id} made export {export_id} (dataset looked up)")

    page = await exports.list(V, fields="__full", handler_type=HandlerType.S3)
    assert [e.id for e in page.exports] == [export_id], page
    print(f"list (no dataset_id): {len(page.exports)} export, next={page.next!r}")

    one = await exports.get(V, export_id)
    assert one["target_properties"]["file"] == "sdk.csv", one
    print("get: target_properties as written, defaults filled in")

    runs = await exports.runs(V, export_id, limit=5)
    assert runs.export_id == export_id and [r.status.value for r in runs.runs] == ["success"]
    print(f"runs: {len(runs.runs)} run, {runs.runs[0].status.value}")

    patched = await exports.update(
        V, export_id, [{"op": "command", "path": "suspend", "value": None}]
    )
    suspended = await jobs.wait_for_job(patched["job"]["id"])
    assert suspended["response"]["status"] == "suspended", suspended
    print("update (PATCH suspend): job ended, export suspended")

    spec = build_export_spec(
        "postgres",
        {"host": "db.example.com", "username": "u", "password": "p", "database": "d", "table": "t"},
        dataview_id=V,
    )
    built = await exports.create(V, AddExportSpec(**spec))
    await jobs.wait_for_job(built.job.id)
    print("create(build_export_spec('postgres', ...)): the SDK's own contract is accepted")

    s3 = await exports.to_s3(V, file="to_s3.csv")
    assert s3["trigger_id"] > 0 and s3["url"].startswith("http"), s3
    print("to_s3: waited for its job, got the file's URL")

    dataset = await exports.to_dataset(V, "sdk dataset")
    await jobs.wait_for_job(dataset.job.id)
    print("to_dataset: internal dataset export added")

    url = await exports.to_file_url(V, "json")
    csv_url = await exports.to_csv_url(V)
    assert url["url"].startswith("http") and csv_url["job_id"] != url["job_id"], (url, csv_url)
    print("to_file_url / to_csv_url: signed URLs, undownloaded")
    # Both name their file temp_export_<dataset>_<view>.<type>, which one export
    # of the dataview may write at a time: free the csv one for to_csv below.
    freed = await exports.delete(V, csv_url["trigger_id"])
    await jobs.wait_for_job(freed["job"]["id"])

    with tempfile.TemporaryDirectory() as tmp:
        parquet = await exports.to_file(V, Path(tmp) / "v.parquet", file_type="parquet")
        csv = await exports.to_csv(V, Path(tmp) / "v.csv")
        assert parquet.stat().st_size > 0 and csv.read_text().startswith("exported_by")
    print("to_file / to_csv: files downloaded")

    published = await exports.publish_db(V, OdbcType.POSTGRES, {"table": "published"})
    await jobs.wait_for_job(published["job"]["id"])
    changed = await exports.publish_db_update(
        V, [{"op": "replace", "path": "credentials", "value": {"odbc_type": "bigquery"}}]
    )
    assert changed["status"] == "edited", changed
    print("publish_db / publish_db_update: publishdb export added, then changed")

    suggested = await exports.rest_fill(V, "https://api.example.com/docs/orders")
    assert suggested["response"]["suggestion"]["base_url"] == "https://api.example.com"
    print("rest_fill: finished job with a suggestion")

    policy = await exports.set_export_hosts(True, ["api.example.com"])
    read = await exports.export_hosts()
    assert policy.restricted and read.hosts == ["api.example.com"], (policy, read)
    print("set_export_hosts / export_hosts: policy stored and read back")

    deleted = await exports.delete(V, export_id)
    await jobs.wait_for_job(deleted["job"]["id"])
    print("delete: 202, job ended")
    return int(queued.job.id)


async def check_jobs(client: Any, base_url: str, job_id: int) -> None:
    jobs = client.jobs
    one = await jobs.get_job(job_id)
    assert one["job"]["status"] == "success", one
    many = await jobs.get_jobs([job_id, job_id + 1])
    assert [j["id"] for j in many["jobs"]] == [job_id, job_id + 1], many
    print("get_job / get_jobs: as JobSchema")
    both = await jobs.wait_for_jobs([job_id, job_id + 1])
    assert len(both["jobs"]) == 2
    print("wait_for_jobs: both ended")

    await set_faults(base_url, job_failure_rate=1)
    try:
        failing = await client.exports.create(V, s3_spec("fails.csv"))
        try:
            await jobs.wait_for_job(failing.job.id)
        except MammothJobFailedError as error:
            assert "job_failure_rate" in str(error), error
            print(f"wait_for_job on a failed job: MammothJobFailedError ({error})")
        else:
            raise AssertionError("a failed job was not reported")
    finally:
        await set_faults(base_url, job_failure_rate=0)


async def check(base_url: str) -> None:
    client = MammothClient(
        api_key="sandbox",
        api_secret="sandbox",
        workspace_id=W,
        base_url=base_url,
        allow_insecure_loopback_http=True,
    )
    client.set_project_id(P)
    job_id = await check_exports(client, base_url)
    await check_jobs(client, base_url, job_id)
    print("The official SDK works unchanged against the sandbox.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base-url", default="http://127.0.0.1:8799/api/v2")
    asyncio.run(check(parser.parse_args().base_url))


if __name__ == "__main__":
    main()
