"""Mammoth's manifest sections: ``dataviews:`` and the ``defaults`` its exports share.

For each document: check both sections against Mammoth's part of the manifest
schema once, then per export merge ``defaults``, check target_properties
against the handler's schema, check the export's own rules
(``ignore_changes``/``sensitive`` paths, the reserved marker key, unique keys
per dataview across all files, one export per destination where Mammoth
allows only one), resolve ``${env:...}`` and apply the SDK's defaults.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from reconciler._resources import load_schema
from reconciler.diagnostics import SourceLocation
from reconciler.identity import MARKER_FIELD
from reconciler.manifest.paths import Path
from reconciler.manifest.schema_check import SchemaChecker, SchemaProblem, check, did_you_mean
from reconciler.manifest.sections import Entry, LoadContext, merge_defaults
from reconciler.manifest.yaml_source import YamlDocument
from reconciler.model import Prune, Scope, ScopeSpec, Unmanaged, freeze
from reconciler.providers.base import SchemaParts
from reconciler.providers.mammoth import handlers
from reconciler.providers.mammoth.kind import COMPARED_FIELDS, MAPPING_FIELDS, dataview_spec
from reconciler.providers.mammoth.model import ID_FIELDS, DataviewRef, ExportSpec

__all__ = [
    "DATAVIEWS_SECTION",
    "DEFAULTS_SECTION",
    "DataviewsLoader",
    "manifest_schema_parts",
    "sections_validator",
    "target_validator",
]

DATAVIEWS_SECTION = "dataviews"
DEFAULTS_SECTION = "defaults"


def _secret_at(path: Path) -> bool:
    """Secret-named fields inside the free-form mappings (``key`` itself is not one)."""
    inside = any(p in ("target_properties", "additional_properties") for p in path[:-1])
    name = path[-1] if path else None
    return isinstance(name, str) and (inside or path == (name,)) and handlers.is_secret_field(name)


@cache
def sections_validator() -> SchemaChecker:
    """Mammoth's sections of the manifest schema, without the per-handler target checks.

    The loader checks target_properties itself, after merging ``defaults``, so
    that a field given by defaults counts (see ``$defs.targetByHandler``). The
    top level (``version``, which sections exist) is the core loader's.
    """
    schema = copy.deepcopy(load_schema("manifest.schema.json"))
    schema["$defs"]["targetByHandler"] = {}
    schema["properties"] = {
        name: schema["properties"][name] for name in (DEFAULTS_SECTION, DATAVIEWS_SECTION)
    }
    schema["required"] = []
    schema.pop("additionalProperties", None)
    return SchemaChecker.of(schema, _secret_at)


def manifest_schema_parts() -> SchemaParts:
    """Mammoth's sections of the bundled manifest schema, every handler's target inlined."""
    document = copy.deepcopy(load_schema("manifest.schema.json"))
    defs = document["$defs"]
    for branch in defs["targetByHandler"]["allOf"]:
        properties = branch["then"]["properties"]
        handler = properties["target_properties"]["$ref"].removeprefix("targets/")
        handler = handler.removesuffix(".json")
        target = copy.deepcopy(handlers.target_schema(handler))
        target.pop("$schema", None)
        target.pop("$id", None)
        defs[f"target_{handler}"] = target
        properties["target_properties"] = {"$ref": f"#/$defs/target_{handler}"}
    owned = (DEFAULTS_SECTION, DATAVIEWS_SECTION)
    sections = {name: document["properties"][name] for name in owned}
    return SchemaParts(sections, defs)


@cache
def target_validator(handler_type: str) -> SchemaChecker:
    return SchemaChecker.of(handlers.target_schema(handler_type), _secret_at)


@dataclass
class _DataviewParts:
    """One dataview's exports gathered from every file that names it."""

    ref: DataviewRef
    location: SourceLocation
    prune: str | None = None
    prune_location: SourceLocation | None = None
    unmanaged: str | None = None
    exports: list[ExportSpec] = field(default_factory=list)


class DataviewsLoader:
    """The ``SectionLoader`` of Mammoth's sections, for one load of all the files."""

    def __init__(self) -> None:
        self.parts: dict[DataviewRef, _DataviewParts] = {}
        self.keys: dict[tuple[DataviewRef, str], Entry] = {}
        self.destinations: dict[tuple[object, ...], Entry] = {}
        self.positions: dict[tuple[DataviewRef, int], Entry] = {}

    def scopes(self) -> tuple[ScopeSpec, ...]:
        return tuple(
            replace(
                dataview_spec(p.ref, p.exports, Prune(p.prune or "managed"), p.location),
                unmanaged=Unmanaged(p.unmanaged or Unmanaged.DRIFT.value),
            )
            for p in self.parts.values()
        )

    def scopes_ahead(self, root: Mapping[str, Any]) -> list[Scope]:
        """Each dataview written with four integer ids (``ScopesAhead``).

        Listing a dataview needs only its address; the embedded sandbox,
        which makes its dataviews from the whole manifest, is never listed ahead.
        """
        dataviews = root.get(DATAVIEWS_SECTION)
        found = (
            [_ref(d) for d in dataviews if isinstance(d, dict)]
            if isinstance(dataviews, list)
            else []
        )
        return list(dict.fromkeys(ref.scope for ref in found if ref is not None))

    def scopes_in_text(self, raw: bytes) -> list[Scope]:
        """Each run of the four ids, in any order, as a dataview writes them (``ScopesInText``).

        Block or flow style alike: the ids of one dataview come together, so
        a run ends when all four are seen, or restarts when one comes twice.
        Comment lines are skipped; anchors and merge keys are not followed.
        """
        found: list[Scope] = []
        run: dict[bytes, int] = {}
        for name, value in _ids_in_text(raw):
            if name in run:
                run = {}
            run[name] = value
            if len(run) == len(_ID_NAMES):
                found.append(DataviewRef(*(run[n] for n in _ID_NAMES)).scope)
                run = {}
        return list(dict.fromkeys(found))

    def load(self, doc: YamlDocument, root: Mapping[str, Any], context: LoadContext) -> None:
        for problem in check(sections_validator(), root):
            context.report(doc, problem.path, problem.message, key=problem.at_key)
        defaults = root.get(DEFAULTS_SECTION)
        dataviews = root.get(DATAVIEWS_SECTION)
        for index, dataview in enumerate(dataviews if isinstance(dataviews, list) else []):
            if isinstance(dataview, dict):
                self._dataview(doc, (DATAVIEWS_SECTION, index), dataview, defaults, context)

    def _dataview(
        self,
        doc: YamlDocument,
        base: Path,
        dataview: dict[str, Any],
        defaults: Any,
        context: LoadContext,
    ) -> None:
        ref = _ref(dataview)
        parts = self._parts(doc, base, dataview, ref, context) if ref else None
        exports = dataview.get("exports")
        for index, export in enumerate(exports if isinstance(exports, list) else []):
            if not isinstance(export, dict):
                continue
            merged = merge_defaults(defaults, export) if isinstance(defaults, dict) else export
            entry = Entry(doc, (*base, "exports", index), merged)
            spec = self._export(entry, ref, context)
            if spec is not None and parts is not None:
                parts.exports.append(spec)

    def _parts(
        self,
        doc: YamlDocument,
        base: Path,
        dataview: dict[str, Any],
        ref: DataviewRef,
        context: LoadContext,
    ) -> _DataviewParts:
        parts = self.parts.setdefault(ref, _DataviewParts(ref, doc.at(base)))
        unmanaged = dataview.get("unmanaged")
        if isinstance(unmanaged, str):  # the schema checks the word; any file may say it
            parts.unmanaged = unmanaged
        prune = dataview.get("prune")
        if not isinstance(prune, str):
            return parts
        here = doc.at((*base, "prune"))
        if parts.prune is not None and parts.prune != prune:
            message = (
                f"prune '{prune}' conflicts with prune '{parts.prune}' for dataview {ref} "
                f"at {parts.prune_location}; set it once"
            )
            context.report(doc, (*base, "prune"), message)
        elif parts.prune is None:
            parts.prune, parts.prune_location = prune, here
        return parts

    def _export(
        self, entry: Entry, ref: DataviewRef | None, context: LoadContext
    ) -> ExportSpec | None:
        value = entry.value
        handler = value.get("handler_type")
        known = handler if isinstance(handler, str) and handler in handlers.HANDLER_TYPES else None
        self._check_key(entry, ref, context)
        if known is not None:
            _check_target(entry, known, context)
        for name in ("ignore_changes", "sensitive"):
            _check_field_paths(entry, name, known, context)
        _check_marker(entry, context)
        _check_position(entry, context)
        if ref is not None:
            self._check_shared_position(entry, ref, context)
        resolved, env_refs = context.resolve_env(entry)
        if context.has_problems or known is None:
            return None  # the model is only ever built from a fully valid manifest
        spec = _spec(resolved, known, env_refs, entry.location)
        if ref is not None:
            self._check_destination(entry, ref, spec, context)
        return spec

    def _check_key(self, entry: Entry, ref: DataviewRef | None, context: LoadContext) -> None:
        key = entry.value.get("key")
        if ref is None or not isinstance(key, str):
            return
        # Trick (speed): keep the entry, not its key's place; that is only
        # looked up for the message about a second use.
        first = self.keys.setdefault((ref, key), entry)
        if first is not entry:
            where = first.doc.at((*first.base, "key"))
            message = (
                f"export key '{key}' is already used in dataview {ref} at {where}; "
                "keys must be unique per dataview"
            )
            context.report_at(entry, ("key",), message)

    def _check_shared_position(self, entry: Entry, ref: DataviewRef, context: LoadContext) -> None:
        """Two exports at one position cannot both keep it: the server shifts one
        along, and every plan would then move it back."""
        sequence = entry.value.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            return
        first = self.positions.setdefault((ref, sequence), entry)
        if first is not entry:
            other = first.value.get("key")
            message = (
                f"sequence {sequence} is already the position of export '{other}' at "
                f"{first.doc.at((*first.base, 'sequence'))}; each export of a dataview "
                "needs its own position"
            )
            context.report_at(entry, ("sequence",), message)

    def _check_destination(
        self, entry: Entry, ref: DataviewRef, spec: ExportSpec, context: LoadContext
    ) -> None:
        """Mammoth refuses a second export writing to some destinations (an S3 file
        per dataview, a dataset name per project): say so now, not half way
        through an apply (preflight checks each write alone and cannot see it)."""
        scope = handlers.unique_within(spec.handler_type)
        address = handlers.address_of(spec.handler_type, spec.target_properties)
        if scope is None or address is None:
            return
        where = ref if scope == "dataview" else (ref.workspace_id, ref.project_id)
        first = self.destinations.setdefault((scope, where, address), entry)
        if first is not entry:
            other = first.value.get("key")
            place = first.doc.at(first.base)
            message = (
                f"export '{spec.key}' writes to the same destination as export '{other}' "
                f"at {place}; Mammoth allows one export per destination within a {scope}"
            )
            context.report_at(entry, ("target_properties",), message)


def _check_target(entry: Entry, handler: str, context: LoadContext) -> None:
    target = entry.value.get("target_properties", {})
    if not isinstance(target, dict):
        return
    replaced = handlers.replaced_fields(handler)
    old = {name for name in target if name in replaced}
    for problem in check(_hiding_sensitive(target_validator(handler), entry), target):
        if problem.at_key and len(problem.path) == 1 and problem.path[0] in old:
            continue  # said below, with the field that replaces it
        _report_target(entry, handler, problem, context)
    # Reported even where the handler accepts open-ended keys: an old name
    # there would be sent, and silently ignored by the server.
    for name in sorted(old):
        message = _replaced_message(handler, name, replaced[name])
        context.report_at(entry, ("target_properties", name), message, key=True)


def _hiding_sensitive(checker: SchemaChecker, entry: Entry) -> SchemaChecker:
    """The target's checker, also hiding in its messages the values of the fields the
    export lists under ``sensitive`` (a wrong value is shown otherwise)."""
    listed = entry.value.get("sensitive")
    prefix = "target_properties."
    hidden = {
        tuple(item.removeprefix(prefix).split("."))
        for item in (listed if isinstance(listed, list) else [])
        if isinstance(item, str) and item.startswith(prefix)
    }
    if not hidden:
        return checker
    builtin = checker.secret_at

    def secret_at(path: Path) -> bool:
        return builtin(path) or any(tuple(path[: len(h)]) == h for h in hidden)

    return replace(checker, secret_at=secret_at)


def _replaced_message(handler: str, name: str, new: tuple[str, ...]) -> str:
    """What to write instead of a target field of older Mammoth examples."""
    if not new:
        instead = "remove it"
    elif len(new) == 1:
        instead = f"write '{new[0]}' instead"
    else:
        instead = "write " + ", ".join(f"'{n}'" for n in new[:-1]) + f" and '{new[-1]}' instead"
    return (
        f"'{name}' is not a field of the {handler} handler in the current Mammoth SDK; "
        f"{instead} (see schemas/targets/{handler}.json)"
    )


def _report_target(
    entry: Entry, handler: str, problem: SchemaProblem, context: LoadContext
) -> None:
    message = problem.message
    if message.startswith(("unknown field", "missing required field")):
        message = f"{message} (handler {handler})"
    relative = ("target_properties", *problem.path)
    context.report_at(entry, relative, message, problem.at_key)


def _check_field_paths(entry: Entry, name: str, handler: str | None, context: LoadContext) -> None:
    entries = entry.value.get(name)
    if not isinstance(entries, list):
        return
    for index, item in enumerate(entries):
        if isinstance(item, str):
            problem = _field_path_problem(item, handler)
            if problem:
                context.report_at(entry, (name, index), problem)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_position(entry: Entry, context: LoadContext) -> None:
    """``sequence`` and ``end_of_pipeline`` as the SDK's export builder accepts them:
    one or the other, and ``end_of_pipeline: false`` only with a position."""
    sequence = entry.value.get("sequence")
    end = entry.value.get("end_of_pipeline")
    if _is_int(sequence) and end is True:
        message = (
            f"end_of_pipeline: true and sequence {sequence} exclude each other (the Mammoth "
            "SDK refuses both): remove end_of_pipeline to place the export at the sequence, "
            "or remove sequence to run it at the end"
        )
        context.report_at(entry, ("end_of_pipeline",), message)
    elif end is False and sequence is None:
        message = (
            "end_of_pipeline: false needs a sequence (the position in the pipeline); "
            "set sequence, or remove end_of_pipeline to run the export at the end"
        )
        context.report_at(entry, ("end_of_pipeline",), message)


def _check_marker(entry: Entry, context: LoadContext) -> None:
    extra = entry.value.get("additional_properties")
    if isinstance(extra, dict) and MARKER_FIELD in extra:
        message = f"'{MARKER_FIELD}' is reserved for exportctl's ownership marker; use another name"
        context.report_at(entry, ("additional_properties", MARKER_FIELD), message, key=True)


_ID_NAMES = tuple(name.encode() for name in ID_FIELDS)
# Trick (speed): a pattern starting with a literal is scanned for in C at
# memchr speed (about 1 ms a megabyte); the name before it is checked after.
_ID_VALUE = re.compile(rb"_id[ \t]*:[ \t]*(\d+)\b")
_LONGEST_NAME = max(len(name) for name in _ID_NAMES)


def _ids_in_text(raw: bytes) -> Iterator[tuple[bytes, int]]:
    """Each ``<name>_id: <integer>`` of the four ids, outside comment lines."""
    for match in _ID_VALUE.finditer(raw):
        start = match.start() + 3  # after "_id"
        before = raw[max(0, start - _LONGEST_NAME - 1) : start]
        name = next((n for n in _ID_NAMES if before.endswith(n)), None)
        if name is None:
            continue
        edge = start - len(name) - 1  # the character before the name
        if edge >= 0 and raw[edge : edge + 1] not in b" \t\n{,-":
            continue  # part of a longer key (my_dataview_id)
        line = raw[raw.rfind(b"\n", 0, start) + 1 : start]
        if line.lstrip(b" \t-").startswith(b"#"):
            continue
        yield name, int(match.group(1))


def _ref(dataview: dict[str, Any]) -> DataviewRef | None:
    ids = [dataview.get(n) for n in ID_FIELDS]
    ints = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    return DataviewRef(*ints) if len(ints) == len(ID_FIELDS) else None


def _field_path_problem(entry: str, handler: str | None) -> str | None:
    """Why a dotted ignore_changes/sensitive path cannot name a compared field."""
    parts = entry.split(".")
    head = parts[0]
    if "" in parts:
        return f"'{entry}' is not a dotted path like target_properties.use_format"
    if head not in COMPARED_FIELDS:
        guess = did_you_mean(head, COMPARED_FIELDS)
        hint = f"did you mean '{guess}'?" if guess else f"use one of {', '.join(COMPARED_FIELDS)}"
        return f"'{entry}' does not start with a compared field; {hint}"
    if len(parts) > 1 and head not in MAPPING_FIELDS:
        return f"'{entry}': {head} is a single value and has no fields"
    if head == "target_properties" and len(parts) > 1 and handler is not None:
        known = list(handlers.target_schema(handler).get("properties", {}))
        if parts[1] not in known:
            guess = did_you_mean(parts[1], known)
            hint = f"; did you mean '{guess}'?" if guess else ""
            return f"'{entry}': {handler} has no target field '{parts[1]}'{hint}"
    return None


def _spec(
    value: dict[str, Any], handler: str, env_refs: dict[str, str], location: SourceLocation
) -> ExportSpec:
    """The typed export, with the SDK's defaults for everything left unset."""
    target = {**handlers.target_defaults(handler), **value.get("target_properties", {})}
    return ExportSpec(
        key=value["key"],
        handler_type=handler,
        trigger_type=value.get("trigger_type") or handlers.default_trigger_type(handler),
        target_properties=freeze(target),
        condition=freeze(value.get("condition", {})),
        additional_properties=freeze(value.get("additional_properties", {})),
        end_of_pipeline=value.get("end_of_pipeline", value.get("sequence") is None),
        sequence=value.get("sequence"),
        run_immediately=value.get("run_immediately", True),
        suspended=value.get("suspended", False),
        protect=value.get("protect", False),
        ignore_changes=tuple(value.get("ignore_changes", ())),
        sensitive=tuple(value.get("sensitive", ())),
        env_refs=freeze(env_refs),
        location=location,
    )
