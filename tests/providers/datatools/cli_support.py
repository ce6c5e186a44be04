"""Running the real ``exportctl`` CLI against a data-tools sandbox, over a socket or embedded.

``Cli`` holds where the manifest is and which environment the commands get:
over a socket, ``DATATOOLS_BASE_URL`` points at a ``Site``; embedded, every
command gets ``--sandbox DB``. Manifests are written from small dictionaries,
so a test says only what differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.providers.datatools.sandbox.seed import DATASOURCES
from reconciler.providers.datatools.wire import ExportJob, Template
from tests.providers.datatools.support import PASSWORD, USER, Site

SALES = DATASOURCES["sales"]
EMPTY = DATASOURCES["empty"]


def template(key: str, name: str, **fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": key,
        "name": name,
        "template_type": "user",
        "configuration": {"format": "csv"},
    }
    return {**entry, **fields}


def snapshot(key: str, datasource: str = SALES, **fields: Any) -> dict[str, Any]:
    return {"key": key, "datasource": datasource, "format": "csv", "max_age": "1h", **fields}


def manifest_text(
    templates: Sequence[Mapping[str, Any]] | None = None,
    snapshots: Sequence[Mapping[str, Any]] | None = None,
    **section: Any,
) -> str:
    if templates is not None:
        section["templates"] = list(templates)
    if snapshots is not None:
        section["snapshots"] = list(snapshots)
    return yaml.safe_dump({"version": 1, "datatools": section}, sort_keys=False)


@dataclass
class Cli:
    """``exportctl`` for one manifest file, against one data-tools server."""

    folder: Path
    env: dict[str, str | None]
    sandbox_db: Path | None = None

    @property
    def manifest(self) -> Path:
        return self.folder / "exports.yaml"

    def write(self, *args: Any, **kwargs: Any) -> None:
        self.manifest.write_text(manifest_text(*args, **kwargs), encoding="utf-8")

    def __call__(self, command: str, *args: str) -> Result:
        argv = [command, "-f", str(self.manifest), *args]
        if self.sandbox_db is not None:
            argv += ["--sandbox", str(self.sandbox_db)]
        return CliRunner().invoke(cli, argv, env=self.env)

    def validate(self, *args: str) -> Result:
        """``validate`` reads the manifest only: it takes no ``--sandbox``."""
        return self.raw("validate", "-f", str(self.manifest), *args)

    def raw(self, *argv: str) -> Result:
        """``exportctl ARGV`` in this environment, nothing added (e.g. ``apply PLANFILE``)."""
        return CliRunner().invoke(cli, list(argv), env=self.env)

    def apply(self, *args: str) -> Result:
        return self("apply", "--auto-approve", *args)


def socket_cli(site: Site, folder: Path, password: str = PASSWORD) -> Cli:
    env: dict[str, str | None] = {
        "DATATOOLS_BASE_URL": site.root_url,
        "DATATOOLS_USERNAME": USER,
        "DATATOOLS_PASSWORD": password,
        "DATATOOLS_PREFIX": None,
        "NO_COLOR": "1",
    }
    return Cli(folder, env)


def embedded_cli(folder: Path) -> Cli:
    env: dict[str, str | None] = {
        "DATATOOLS_BASE_URL": None,
        "DATATOOLS_USERNAME": None,
        "DATATOOLS_PASSWORD": None,
        "NO_COLOR": "1",
    }
    return Cli(folder, env, folder / "sandbox.db")


def own_templates(site: Site) -> list[Template]:
    async def listing() -> list[Template]:
        async with site.client() as client:
            return await client.list_own_templates()

    return asyncio.run(listing())


def jobs(site: Site) -> tuple[ExportJob, ...]:
    async def listing() -> tuple[ExportJob, ...]:
        async with site.client() as client:
            return (await client.list_jobs()).jobs

    return asyncio.run(listing())


def output(result: Result) -> str:
    return result.stdout + result.stderr
