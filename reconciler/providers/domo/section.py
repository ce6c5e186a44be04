"""The manifest's ``domo:`` section: checked, resolved, and turned into snapshot scopes.

Per document: the section is checked once against its JSON Schema
(``schemas/domo/s3_exports.schema.json``, which also refuses a credential
written literally instead of as ``${env:...}``); then per entry its ``key``
must be unique across every file, and so must its DataSet, bucket and path
(Domo's answers name only those, so two entries there could not be told
apart), its ``${env:...}`` references are resolved, and ``entries`` checks
what a schema cannot (the region against AWS's list, ``max_age``, a
temporary key without its session token). Every problem is reported where
it was written; a credential's value never is.

Each DataSet is one scope holding its entries as snapshots, the credentials
in ``SnapshotSpec.write_only``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from reconciler._resources import load_schema
from reconciler.diagnostics import SourceLocation
from reconciler.manifest.paths import Path
from reconciler.manifest.schema_check import SchemaChecker, check
from reconciler.manifest.sections import Entry, LoadContext
from reconciler.manifest.yaml_source import YamlDocument
from reconciler.model import FrozenDict, Scope, ScopeSpec, SnapshotSpec, freeze
from reconciler.providers.base import SchemaParts
from reconciler.providers.domo.entries import EntryError, entry_from_manifest
from reconciler.providers.domo.kinds import (
    KIND,
    PROVIDER,
    RESOURCE_NOUN,
    SCOPE_NOUN,
    SNAPSHOT_TYPE,
    UNCHANGED_NOTE,
    request_of,
)

__all__ = [
    "ENTRIES",
    "SCHEMA_PATH",
    "SECTION",
    "DomoSectionLoader",
    "dataset_scope",
    "schema_parts",
]

SECTION = "domo"
ENTRIES = "s3_exports"
SCHEMA_PATH = "domo/s3_exports.schema.json"
# Bundled with other providers' definitions: Domo's are prefixed to never collide.
_DEF_PREFIX = "domo_"


def _secret_at(path: Path) -> bool:
    """Every credential, whatever its name (``kms_key`` is not secret-named); not ``key``."""
    return "credentials" in path[:-1]


@cache
def _checker() -> SchemaChecker:
    return SchemaChecker.of(load_schema(SCHEMA_PATH), _secret_at)


def schema_parts() -> SchemaParts:
    """The ``domo`` section for ``exportctl schema``, its definitions prefixed ``domo_``."""
    document = copy.deepcopy(load_schema(SCHEMA_PATH))
    defs = document.pop("$defs")
    for name in ("$schema", "$id"):
        document.pop(name, None)
    section = _prefixed(document)
    return SchemaParts(
        {SECTION: section}, {_DEF_PREFIX + name: _prefixed(value) for name, value in defs.items()}
    )


def _prefixed(node: Any) -> Any:
    """``node`` with every ``#/$defs/NAME`` reference renamed ``#/$defs/domo_NAME``."""
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/$defs/" + _DEF_PREFIX, 1)
                if key == "$ref" and isinstance(value, str)
                else _prefixed(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_prefixed(item) for item in node]
    return node


def dataset_scope(dataset_id: str) -> Scope:
    """The scope of one DataSet: its exports are its runs."""
    return Scope(
        PROVIDER,
        KIND,
        dataset_id,
        freeze({"dataset_id": dataset_id}),
        noun=SCOPE_NOUN,
        resource_noun=RESOURCE_NOUN,
    )


@dataclass
class _Dataset:
    location: SourceLocation
    snapshots: list[SnapshotSpec] = field(default_factory=list)


class DomoSectionLoader:
    """The ``SectionLoader`` of ``domo:``, for one load of all the files."""

    def __init__(self) -> None:
        self._datasets: dict[str, _Dataset] = {}
        self._keys: dict[str, Entry] = {}
        self._places: dict[tuple[str, str, str], Entry] = {}

    def scopes(self) -> tuple[ScopeSpec, ...]:
        return tuple(
            ScopeSpec(dataset_scope(dataset_id), location=d.location, snapshots=tuple(d.snapshots))
            for dataset_id, d in self._datasets.items()
        )

    def load(self, doc: YamlDocument, root: Mapping[str, Any], context: LoadContext) -> None:
        section = root.get(SECTION)
        broken: set[int] = set()
        for problem in check(_checker(), section):
            path = (SECTION, *problem.path)
            context.report(doc, path, problem.message, key=problem.at_key)
            if len(problem.path) >= 2 and isinstance(problem.path[1], int):
                broken.add(problem.path[1])
        items = section.get(ENTRIES) if isinstance(section, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                entry = Entry(doc, (SECTION, ENTRIES, index), item)
                self._entry(entry, context, checked=index not in broken)

    def _entry(self, entry: Entry, context: LoadContext, *, checked: bool) -> None:
        self._check_unique(entry, context)
        resolved, env_refs = context.resolve_env(entry)
        if not checked or context.has_problems:
            return  # the model is only ever built from a fully valid manifest
        try:
            parsed = entry_from_manifest(resolved)
        except EntryError as error:
            relative = tuple(error.field_path.split("."))
            context.report_at(entry, relative, error.message)
            return
        request = parsed.request
        snapshot = SnapshotSpec(
            key=parsed.key,
            type=SNAPSHOT_TYPE,
            request=request_of(request),
            max_age_s=parsed.max_age.total_seconds(),
            write_only=_write_only(resolved["credentials"]),
            env_refs=freeze(env_refs),
            location=entry.location,
            run_note=UNCHANGED_NOTE,
        )
        dataset = self._datasets.setdefault(request.dataset_id, _Dataset(entry.location))
        dataset.snapshots.append(snapshot)

    def _check_unique(self, entry: Entry, context: LoadContext) -> None:
        value = entry.value
        key = value.get("key")
        if isinstance(key, str):
            first = self._keys.setdefault(key, entry)
            if first is not entry:
                where = first.doc.at((*first.base, "key"))
                message = f"export key '{key}' is already used in {SECTION}.{ENTRIES} at {where}"
                context.report_at(entry, ("key",), f"{message}; keys must be unique")
        place = (value.get("dataset_id"), value.get("bucket"), value.get("path"))
        if all(isinstance(part, str) for part in place):
            dataset_id, bucket, path = (str(part) for part in place)
            normalized = (dataset_id.lower(), bucket, path.strip("/"))
            first = self._places.setdefault(normalized, entry)
            if first is not entry:
                where = first.doc.at(first.base)
                context.report_at(
                    entry,
                    ("path",),
                    f"DataSet {dataset_id} is already exported to s3://{bucket}/"
                    f"{normalized[2]} by the entry at {where}: Domo's answers name only "
                    "the bucket and path, so two entries there cannot be told apart; "
                    "give each its own path",
                )


def _write_only(credentials: Mapping[str, Any]) -> FrozenDict:
    """The resolved credentials, sent with a run and nowhere else (empty ones left out)."""
    frozen: FrozenDict = freeze({name: str(v) for name, v in credentials.items() if v})
    return frozen
