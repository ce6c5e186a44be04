"""The manifest's ``datatools:`` section read into scopes: one per kind, of one user.

Per document: the section is checked against its JSON Schema
(``section.section_schema``), every problem reported where it was written;
then per entry: ``key`` unique per list across all files, a template name
used once (the server refuses a second one per user), one snapshot entry per
request (two would share their runs), ``max_age`` readable, ``${env:...}``
resolved. (The schema already refuses the marker's key, ``exportctl``, in a
template's configuration.) Templates become one
``ScopeSpec`` planned with ``kind.TEMPLATES``; snapshots one of
``SnapshotSpec``.

The scopes are those of the user who logs in (``DATATOOLS_USERNAME``; the
sandbox's default user ``sandbox`` when unset), because the API only ever
shows that user's templates and jobs.

What the server would accept and quietly drop (``section.section_warnings``)
is reported as a warning: shown by ``validate``, the load goes on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from reconciler.diagnostics import SourceLocation
from reconciler.manifest.paths import Path
from reconciler.manifest.schema_check import SchemaChecker, check
from reconciler.manifest.sections import Entry, LoadContext
from reconciler.manifest.yaml_source import YamlDocument
from reconciler.model import Prune, Scope, ScopeSpec, SnapshotSpec, Unmanaged, freeze
from reconciler.providers.base import SchemaParts
from reconciler.providers.datatools.kind import TEMPLATES
from reconciler.providers.datatools.section import SECTION, section_schema, section_warnings
from reconciler.providers.datatools.snapshots import parse_max_age, snapshot_request
from reconciler.providers.datatools.templates import TemplateSpec, natural_key, template_spec

__all__ = [
    "DEFAULT_USER",
    "NAME",
    "SNAPSHOTS",
    "TEMPLATES_KIND",
    "DatatoolsLoader",
    "schema_parts",
    "scope_for",
]

NAME = "datatools"
TEMPLATES_KIND = "templates"
SNAPSHOTS = "snapshots"
DEFAULT_USER = "sandbox"  # the sandbox's login user when DATATOOLS_USERNAME is unset
_DEF_PREFIX = "datatools_"  # the bundled schema's definitions are shared by every provider


def scope_for(kind: str, username: str) -> Scope:
    """The scope of one kind of one user's resources."""
    return Scope(
        NAME,
        kind,
        username,
        freeze({"username": username}),
        noun="data-tools user",
        resource_noun="template" if kind == TEMPLATES_KIND else "export job",
    )


@cache
def _checker() -> SchemaChecker:
    return SchemaChecker.of(section_schema())


def schema_parts() -> SchemaParts:
    """The section for ``exportctl schema``: its definitions renamed ``datatools_*``."""
    text = json.dumps(section_schema())
    for name in section_schema()["$defs"]:
        text = text.replace(f'"#/$defs/{name}"', f'"#/$defs/{_DEF_PREFIX}{name}"')
    schema = json.loads(text)
    defs = {f"{_DEF_PREFIX}{name}": value for name, value in schema.pop("$defs").items()}
    for meta in ("$schema", "$id"):
        schema.pop(meta, None)
    defs[f"{_DEF_PREFIX}section"] = schema
    return SchemaParts({SECTION: {"$ref": f"#/$defs/{_DEF_PREFIX}section"}}, defs)


@dataclass
class _Found:
    """What all the documents asked for so far, with where each key was first used."""

    present: set[str] = field(default_factory=set)  # which lists some document has
    templates: list[TemplateSpec] = field(default_factory=list)
    snapshots: list[SnapshotSpec] = field(default_factory=list)
    first: dict[tuple[str, str, object], Entry] = field(default_factory=dict)
    prune: tuple[str, SourceLocation] | None = None
    unmanaged: str | None = None
    location: SourceLocation | None = None


class DatatoolsLoader:
    """The ``SectionLoader`` of ``datatools:``, for one load of all the files."""

    def __init__(self) -> None:
        self._found = _Found()
        self._username = DEFAULT_USER

    def scopes(self) -> tuple[ScopeSpec, ...]:
        found, specs = self._found, []
        prune = Prune(found.prune[0]) if found.prune else Prune.MANAGED
        if TEMPLATES_KIND in found.present:
            scope = scope_for(TEMPLATES_KIND, self._username)
            unmanaged = Unmanaged(found.unmanaged or Unmanaged.DRIFT.value)
            specs.append(
                ScopeSpec(
                    scope,
                    tuple(found.templates),
                    prune,
                    found.location,
                    unmanaged=unmanaged,
                    kind=TEMPLATES,
                )
            )
        if SNAPSHOTS in found.present:
            scope = scope_for(SNAPSHOTS, self._username)
            specs.append(
                ScopeSpec(scope, location=found.location, snapshots=tuple(found.snapshots))
            )
        return tuple(specs)

    def load(self, doc: YamlDocument, root: Mapping[str, Any], context: LoadContext) -> None:
        self._username = context.environ.get("DATATOOLS_USERNAME") or DEFAULT_USER
        section = root.get(SECTION)
        if section is None:
            return
        problems = check(_checker(), section)
        for problem in problems:
            context.report(doc, (SECTION, *problem.path), problem.message, key=problem.at_key)
        if not isinstance(section, dict):
            return
        if not problems:  # what the server would quietly drop, once the section is valid
            for warning in section_warnings(section):
                context.warn(doc, warning.path, warning.message)
        self._found.location = self._found.location or doc.at((SECTION,))
        self._prune(doc, section, context)
        if isinstance(section.get("unmanaged"), str):  # the schema checks the word
            self._found.unmanaged = section["unmanaged"]
        for kind in (TEMPLATES_KIND, SNAPSHOTS):
            entries = section.get(kind)
            if not isinstance(entries, list):
                continue
            self._found.present.add(kind)
            for index, value in enumerate(entries):
                if isinstance(value, dict):
                    base: Path = (SECTION, kind, index)
                    self._entry(kind, Entry(doc, base, value, defaults_base=base), context)

    def _prune(self, doc: YamlDocument, section: dict[str, Any], context: LoadContext) -> None:
        prune = section.get("prune")
        if not isinstance(prune, str):
            return
        here = doc.at((SECTION, "prune"))
        if self._found.prune is None:
            self._found.prune = (prune, here)
        elif self._found.prune[0] != prune:
            first, where = self._found.prune
            message = f"prune '{prune}' conflicts with prune '{first}' at {where}; set it once"
            context.report(doc, (SECTION, "prune"), message)

    def _entry(self, kind: str, entry: Entry, context: LoadContext) -> None:
        value = entry.value
        self._unique(kind, "key", value.get("key"), entry, context)
        if kind == TEMPLATES_KIND:
            self._check_template(entry, context)
        else:
            self._check_snapshot(entry, context)
        resolved, env_refs = context.resolve_env(entry)
        if context.has_problems:
            return  # the model is only ever built from a fully valid manifest
        if kind == TEMPLATES_KIND:
            self._found.templates.append(template_spec(resolved, env_refs, entry.location))
        else:
            self._found.snapshots.append(_snapshot(resolved, env_refs, entry.location))

    def _check_template(self, entry: Entry, context: LoadContext) -> None:
        name = entry.value.get("name")
        if isinstance(name, str):
            self._unique(TEMPLATES_KIND, "name", natural_key(name), entry, context)

    def _check_snapshot(self, entry: Entry, context: LoadContext) -> None:
        value = entry.value
        max_age = value.get("max_age")
        if isinstance(max_age, str):
            try:
                parse_max_age(max_age)
            except ValueError as error:
                context.report_at(entry, ("max_age",), str(error))
        datasource, format = value.get("datasource"), value.get("format")
        filters = value.get("filters", {})
        if isinstance(datasource, str) and isinstance(format, str) and isinstance(filters, dict):
            request = snapshot_request(datasource, format, filters).identity()
            self._unique(SNAPSHOTS, "request", request, entry, context)

    def _unique(
        self, kind: str, what: str, value: object, entry: Entry, context: LoadContext
    ) -> None:
        """Report a second entry of ``kind`` with this ``what`` (key, name, request)."""
        if not isinstance(value, str | Mapping):
            return
        first = self._found.first.setdefault((kind, what, value), entry)
        if first is entry:
            return
        where = first.doc.at(first.base)
        if what == "request":
            message = (
                f"this snapshot requests the same export as {_label(first)} at {where}; "
                "the two would share their runs: merge them"
            )
            context.report_at(entry, (), message)
            return
        noun = "template" if kind == TEMPLATES_KIND else "snapshot"
        reason = (
            "keys must be unique within datatools." + kind
            if what == "key"
            else "names are unique per user on the server"
        )
        message = f"{noun} {what} '{value}' is already used at {where}; {reason}"
        context.report_at(entry, (what,), message)


def _label(entry: Entry) -> str:
    key = entry.value.get("key")
    return f"snapshot '{key}'" if isinstance(key, str) else "another snapshot"


def _snapshot(
    value: dict[str, Any], env_refs: dict[str, str], location: SourceLocation
) -> SnapshotSpec:
    request = snapshot_request(value["datasource"], value["format"], value.get("filters", {}))
    return SnapshotSpec(
        key=value["key"],
        type=request.format,
        request=request.identity(),
        max_age_s=parse_max_age(value["max_age"]).total_seconds(),
        keep=value.get("keep"),
        download=value.get("download"),
        env_refs=freeze(env_refs),
        location=location,
    )
