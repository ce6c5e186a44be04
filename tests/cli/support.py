"""Shared pieces of the CLI tests: a small manifest, running the CLI, hand edits."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from tests.apply.helpers import REF, REF2, client

SECRET = "pg-Secret-0f9e8d7c"
SECRET_VARIABLE = "EXPORTCTL_TEST_PG_PASSWORD"
DATABASE_HOST = "pg.example.com"

MANIFEST = f"""\
version: 1
defaults: {{trigger_type: none, run_immediately: false}}
dataviews:
  - workspace_id: 1
    project_id: 1
    dataset_id: 123
    dataview_id: 456
    exports:
      - key: sales
        handler_type: s3
        target_properties: {{file: sales.csv}}
      - key: warehouse
        handler_type: postgres
        target_properties:
          host: {DATABASE_HOST}
          database: dw
          table: sales
          username: writer
          password: ${{env:{SECRET_VARIABLE}}}
  - workspace_id: 1
    project_id: 1
    dataset_id: 123
    dataview_id: 457
    exports:
      - key: summary
        handler_type: s3
        target_properties: {{file: summary.csv}}
"""

DATAVIEWS = (REF, REF2)


def write_manifest(directory: Path, text: str = MANIFEST) -> Path:
    path = directory / "exports.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str | Path, env: Mapping[str, str | None] | None = None) -> Result:
    """Run ``exportctl ARGS`` as a user would, stdout and stderr kept apart."""
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def lines(text: str) -> list[str]:
    return text.splitlines()


def all_output(result: Result) -> str:
    return result.stdout + result.stderr


def hand_edit(base_url: str, export_id: int, changes: Mapping[str, Any]) -> None:
    """Change an export through the API, as a person in Mammoth's UI would."""

    async def run() -> None:
        async with client(base_url) as api:
            record = next(r for r in await api.list_exports(REF) if r["id"] == export_id)
            body = {name: record[name] for name in _EDITABLE if name in record}
            await api.edit_export(REF, export_id, {**body, **changes, "run_immediately": False})

    asyncio.run(run())


_EDITABLE = (
    "handler_type",
    "trigger_type",
    "target_properties",
    "condition",
    "end_of_pipeline",
    "additional_properties",
)


def export_ids(base_url: str) -> dict[str, int]:
    """Live export ids by marker key, over the manifest's dataviews.

    Apply works on dataviews in parallel, so ids are not known in advance.
    """

    async def run() -> list[dict[str, Any]]:
        async with client(base_url) as api:
            return [r for ref in DATAVIEWS for r in await api.list_exports(ref)]

    found = {}
    for record in asyncio.run(run()):
        key = (record.get("additional_properties") or {}).get("exportctl", {}).get("key")
        if key is not None and record.get("status") != "deleted":
            found[key] = int(record["id"])
    return found
