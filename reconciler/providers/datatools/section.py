"""The manifest's ``datatools:`` section: its JSON Schema, and what ``validate`` warns about.

The schema (``schemas/datatools/section.schema.json``) refuses what the
server would refuse. What the server accepts and then quietly ignores is
not an error but a warning: a filter key it drops, an empty value it
drops, a filter its worker does not apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler._resources import load_schema
from reconciler.manifest.paths import Path
from reconciler.providers.datatools import snapshots, templates

__all__ = ["SCHEMA_PATH", "SECTION", "SectionWarning", "section_schema", "section_warnings"]

SECTION = "datatools"
SCHEMA_PATH = "datatools/section.schema.json"


@dataclass(frozen=True)
class SectionWarning:
    """Something the server will not do as written; ``path`` is inside the manifest."""

    path: Path
    message: str


def section_schema() -> dict[str, Any]:
    return load_schema(SCHEMA_PATH)


def section_warnings(section: Mapping[str, Any]) -> list[SectionWarning]:
    """The warnings for a schema-valid ``datatools:`` section, in document order."""
    found = []
    for index, entry in enumerate(section.get("templates", ())):
        where: Path = (SECTION, "templates", index)
        for note in templates.dropped_keys(templates.template_spec(entry)):
            found.append(SectionWarning((*where, *note.key.split(".")), note.reason))
    for index, entry in enumerate(section.get("snapshots", ())):
        where = (SECTION, "snapshots", index)
        filters = entry.get("filters", {})
        for note in (*snapshots.dropped_keys(filters), *snapshots.worker_caveats(filters)):
            found.append(SectionWarning((*where, *note.key.split(".")), note.reason))
    return found
