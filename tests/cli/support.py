"""Shared pieces of the CLI tests: a small manifest, running the CLI, hand edits."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.providers.mammoth.model import DataviewRef
from tests.apply.helpers import REF, REF2, client, seed

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

# A refusal only the server can make: an internal dataset's name is unique in
# its project, and a hand-made export of dataview 457 already writes this one.
TAKEN_DATASET = "curated_sales"
TAKEN_BODY: Mapping[str, Any] = {
    "handler_type": "internal_dataset",
    "trigger_type": "none",
    "target_properties": {"dataset_name": TAKEN_DATASET},
}
REFUSED_MANIFEST = MANIFEST.replace(
    "  - workspace_id: 1\n    project_id: 1\n    dataset_id: 123\n    dataview_id: 457\n",
    "      - key: curated\n        handler_type: internal_dataset\n"
    f"        target_properties: {{dataset_name: {TAKEN_DATASET}}}\n"
    "  - workspace_id: 1\n    project_id: 1\n    dataset_id: 123\n    dataview_id: 457\n",
)


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


def hand_edit(
    base_url: str, export_id: int, changes: Mapping[str, Any], *, ref: DataviewRef = REF
) -> None:
    """Change an export of dataview ``ref`` through the API, as a person in Mammoth's UI would."""

    async def run() -> None:
        async with client(base_url) as api:
            record = next(r for r in await api.list_exports(ref) if r["id"] == export_id)
            body = {name: record[name] for name in _EDITABLE if name in record}
            await api.edit_export(ref, export_id, {**body, **changes, "run_immediately": False})

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


def on_a_terminal(args: list[str], *, stderr: bool, **env: str) -> str:
    """Run ``exportctl ARGS`` in a subprocess whose stdout (and, if ``stderr``, stderr)
    is a pseudo-terminal, and read everything it printed there."""
    main, terminal = pty.openpty()
    command = [sys.executable, "-m", "reconciler", *args]
    environ = {**os.environ, "TERM": "xterm", **env}
    errors = terminal if stderr else subprocess.DEVNULL
    try:
        subprocess.run(command, stdout=terminal, stderr=errors, env=environ, timeout=60)
    finally:
        os.close(terminal)
    chunks = []
    with os.fdopen(main, "rb", buffering=0) as screen:
        while True:
            try:
                chunk = screen.read(65536)
            except OSError:  # EIO: the terminal is closed and everything was read
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode()


def apply_all(base_url: str, manifest: Path) -> None:
    """``exportctl apply`` the whole manifest, as a merge to main would."""
    applied = invoke("apply", "-f", manifest, "--endpoint", base_url, "--auto-approve")
    assert applied.exit_code == 0, applied.stderr


def add_by_hand(base_url: str, ref: DataviewRef, file: str) -> None:
    """An unmarked S3 export to ``file`` in ``ref``, as another team would add it in the UI."""
    theirs = {"handler_type": "s3", "trigger_type": "none", "run_immediately": False}
    seed(base_url, ref, [{**theirs, "target_properties": {"file": file}}])
