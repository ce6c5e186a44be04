"""``exportctl import datatools``: a ``datatools:`` section from the templates and jobs of today.

Day one with exportctl: the user's templates were made in the UI. Import
lists them (never other users' system and shared ones) and the newest job of
each distinct request, and writes a manifest that ``plan`` finds true except
for adoptions: templates keep their marker's key, or get one from their name;
configurations are written as the server stores them, so nothing plans as an
edit. Each request becomes a snapshot entry with ``max_age: 1d``, the one
thing import cannot know.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable
from typing import Any

import click
import yaml

from reconciler.cli.options import (
    import_connection_options,
    import_out_option,
    write_manifest,
)
from reconciler.identity import MARKER_FIELD
from reconciler.model import DesiredState, thaw
from reconciler.providers.base import Connection
from reconciler.providers.datatools.manifest import DEFAULT_USER, SNAPSHOTS, TEMPLATES_KIND
from reconciler.providers.datatools.provider import FACTORY, DatatoolsProvider
from reconciler.providers.datatools.snapshots import request_of
from reconciler.providers.datatools.templates import marker_of, stored_configuration
from reconciler.providers.datatools.wire import ExportJob, Template

__all__ = ["IMPORTED_MAX_AGE", "import_", "render_section"]

IMPORTED_MAX_AGE = "1d"
_NOT_KEY = re.compile(r"[^a-z0-9._-]+")


def _key(text: str, taken: set[str]) -> str:
    """A manifest key from a name: lower case, dashes, unique among ``taken``."""
    base = _NOT_KEY.sub("-", text.lower()).strip("-._")[:56] or "entry"
    key, number = base, 1
    while key in taken:
        number += 1
        key = f"{base}-{number}"
    taken.add(key)
    return key


def _template_entry(template: Template, taken: set[str]) -> dict[str, Any]:
    marker = marker_of(template)
    key = marker.key if marker is not None and marker.key not in taken else None
    if key is not None:
        taken.add(key)
    configuration = stored_configuration(template.configuration)
    configuration.pop(MARKER_FIELD, None)
    if not configuration.get("filters"):
        configuration.pop("filters", None)
    entry: dict[str, Any] = {"key": key or _key(template.name, taken), "name": template.name}
    if template.description:
        entry["description"] = template.description
    entry["template_type"] = template.template_type
    entry["configuration"] = configuration
    return entry


def _snapshot_entries(jobs: Iterable[ExportJob], taken: set[str]) -> list[dict[str, Any]]:
    """One entry per distinct request, from its newest job (the listing is newest first)."""
    entries, seen = [], set()
    for job in jobs:
        request = request_of(job)
        if request.identity() in seen:
            continue
        seen.add(request.identity())
        entry: dict[str, Any] = {
            "key": _key(f"{job.datasource_name or 'datasource'}-{request.format}", taken),
            "datasource": request.datasource,
            "format": request.format,
        }
        if request.filters:
            entry["filters"] = thaw(request.filters)
        entry["max_age"] = IMPORTED_MAX_AGE
        entries.append(entry)
    return entries


def render_section(
    templates: Iterable[Template], jobs: Iterable[ExportJob], source: str
) -> tuple[str, int, int]:
    """The manifest text (``version: 1`` and a ``datatools:`` section), and how many
    templates and snapshots it holds."""
    taken: set[str] = set()
    section = {
        TEMPLATES_KIND: [_template_entry(t, taken) for t in templates],
        SNAPSHOTS: _snapshot_entries(jobs, set()),
    }
    header = (
        f"# Imported by 'exportctl import datatools' from {source}.\n"
        f"# Snapshots' max_age ({IMPORTED_MAX_AGE}) is a guess: set what you need.\n"
    )
    body = yaml.safe_dump({"version": 1, "datatools": section}, sort_keys=False)
    return header + body, len(section[TEMPLATES_KIND]), len(section[SNAPSHOTS])


@click.command("import")
@import_out_option
@import_connection_options(
    base_url_variable="DATATOOLS_BASE_URL",
    sandbox_lists="Import lists the templates and export jobs that earlier commands with "
    "the same DB made.",
)
def import_(
    out_path: str | None, endpoint: str | None, sandbox_db: str | None, parallelism: int
) -> None:
    """Write a manifest of your data-tools templates and export job requests.

    Run 'exportctl plan' on it next: it should show only adoptions.

    \b
    Example:
      exportctl import datatools --out datatools.yaml
    """
    connection = Connection(endpoint=endpoint, sandbox_db=sandbox_db, parallelism=parallelism)
    provider = FACTORY.open(connection, DesiredState(()))
    if not isinstance(provider, DatatoolsProvider):  # the factory opens nothing else
        raise TypeError(f"unexpected provider {type(provider).__name__}")

    async def listed() -> tuple[list[Template], tuple[ExportJob, ...], str]:
        async with provider:
            client = provider.client
            return (
                await client.list_own_templates(),
                (await client.list_jobs()).jobs,
                client.endpoint,
            )

    templates, jobs, endpoint_shown = asyncio.run(listed())
    source = f"the embedded sandbox {sandbox_db}" if sandbox_db else endpoint_shown
    text, template_count, snapshot_count = render_section(
        sorted(templates, key=lambda t: t.name), jobs, source
    )
    write_manifest(text, out_path)
    user = os.environ.get("DATATOOLS_USERNAME") or DEFAULT_USER
    click.echo(
        f"Imported {template_count} templates and {snapshot_count} snapshots of user "
        f"{user!r} into {out_path or 'stdout'}.",
        err=True,
    )
