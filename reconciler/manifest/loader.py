"""From manifest files to a ``DesiredState``, collecting every problem on the way.

For each file, in load order: parse it with positions (``yaml_source``), check
it against the manifest schema once, then per export merge ``defaults``, check
target_properties against the handler's schema, check the export's own rules
(``ignore_changes``/``sensitive`` paths, the reserved marker key, unique keys
per dataview across all files), resolve ``${env:...}`` and apply the SDK's
defaults. A model is returned only when no file had any problem; otherwise
every diagnostic, sorted by file (in load order) and position.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from reconciler.diagnostics import Diagnostic, SourceLocation
from reconciler.errors import ManifestError
from reconciler.manifest import envsubst
from reconciler.manifest.files import find_files
from reconciler.manifest.paths import Path, format_path
from reconciler.manifest.schema_check import (
    SchemaProblem,
    check,
    did_you_mean,
    manifest_validator,
    target_validator,
)
from reconciler.manifest.yaml_source import YamlDocument, parse_yaml
from reconciler.model import DataviewRef, DataviewSpec, DesiredState, ExportSpec, Prune, freeze
from reconciler.providers import factory_for_section
from reconciler.providers.mammoth import handlers

__all__ = ["COMPARED_FIELDS", "MARKER_KEY", "check_manifest", "expand_paths", "load_manifest"]

# The one section this loader reads itself; its provider is the registry's owner of it.
DATAVIEWS_SECTION = "dataviews"

# The export fields the planner compares; ignore_changes/sensitive start with one.
COMPARED_FIELDS = (
    "handler_type",
    "trigger_type",
    "target_properties",
    "condition",
    "end_of_pipeline",
    "sequence",
    "suspended",
    "additional_properties",
)
_MAPPING_FIELDS = ("target_properties", "condition", "additional_properties")
# Where exportctl keeps its ownership marker inside additional_properties.
MARKER_KEY = "exportctl"
_DEFAULTS: Path = ("defaults",)


def expand_paths(paths: Sequence[str | FsPath]) -> list[FsPath]:
    """The manifest files ``-f`` names, in load order; ``ManifestError`` if one is missing."""
    files, problems = find_files(paths)
    if problems:
        raise ManifestError(problems)
    return files


def load_manifest(
    paths: Sequence[str | FsPath], environ: Mapping[str, str] | None = None
) -> DesiredState:
    """The desired state the files describe; raises ``ManifestError`` listing every problem."""
    state, diagnostics = check_manifest(paths, environ)
    if state is None:
        raise ManifestError(diagnostics)
    return state


def check_manifest(
    paths: Sequence[str | FsPath], environ: Mapping[str, str] | None = None
) -> tuple[DesiredState | None, list[Diagnostic]]:
    """The desired state (None if anything is wrong) and every diagnostic found.

    ``environ`` defaults to ``os.environ``; tests pass their own.
    """
    with _without_cyclic_gc():
        return _check_manifest(paths, os.environ if environ is None else environ)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Trick (speed): loading builds ~20 objects per export and no reference cycles,
    yet each allocation burst triggers collections that re-walk every object
    built so far: a quarter of a large manifest's load time. Plain reference
    counting frees everything as usual; the collector resumes afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_manifest(
    paths: Sequence[str | FsPath], environ: Mapping[str, str]
) -> tuple[DesiredState | None, list[Diagnostic]]:
    files, problems = find_files(paths)
    run = _Run(environ)
    run.diagnostics.extend(problems)
    digest = hashlib.sha256()
    for path in files:
        raw = _read(path, run.diagnostics)
        if raw is not None:
            digest.update(raw)
            run.load(parse_yaml(str(path), raw))
    if not files and not problems:
        run.diagnostics.append(Diagnostic("no manifest files given"))
    diagnostics = _sorted(run.diagnostics, [str(p) for p in files])
    if diagnostics:
        return None, diagnostics
    sources = tuple(str(p) for p in files)
    owner = factory_for_section(DATAVIEWS_SECTION)
    provider = owner.name if owner is not None else ""
    return DesiredState(run.dataviews(), sources, digest.hexdigest(), provider), []


def _read(path: FsPath, diagnostics: list[Diagnostic]) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as error:
        diagnostics.append(Diagnostic(f"{path}: cannot read: {error.strerror}"))
        return None


def _sorted(diagnostics: list[Diagnostic], order: list[str]) -> list[Diagnostic]:
    rank = {name: index for index, name in enumerate(order)}

    def key(d: Diagnostic) -> tuple[int, int, int, str, str]:
        loc = d.location
        if loc is None:
            return (-1, 0, 0, d.path, d.message)
        return (rank.get(loc.file, len(rank)), loc.line, loc.column, d.path, d.message)

    return sorted(dict.fromkeys(diagnostics), key=key)


@dataclass
class _DataviewParts:
    """One dataview's exports gathered from every file that names it."""

    ref: DataviewRef
    location: SourceLocation
    prune: str | None = None
    prune_location: SourceLocation | None = None
    exports: list[ExportSpec] = field(default_factory=list)


@dataclass
class _Export:
    """One export in one document: where it is, and where its defaults are."""

    doc: YamlDocument
    base: Path
    value: dict[str, Any]

    def locate(self, relative: Path, *, key: bool = False) -> tuple[SourceLocation, str]:
        """The place a field of the merged export came from: its own text or ``defaults``."""
        for base in (self.base, _DEFAULTS):
            path = (*base, *relative)
            if self.doc.positions.has(path):
                return self.doc.at(path, key=key), format_path(path)
        path = (*self.base, *relative)
        return self.doc.at(path, key=key), format_path(path)


class _Run:
    """The state of one load: diagnostics so far, keys seen, dataviews gathered."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.diagnostics: list[Diagnostic] = []
        self.parts: dict[DataviewRef, _DataviewParts] = {}
        self.keys: dict[tuple[DataviewRef, str], _Export] = {}
        self.destinations: dict[tuple[object, ...], _Export] = {}

    def dataviews(self) -> tuple[DataviewSpec, ...]:
        return tuple(
            DataviewSpec(p.ref, tuple(p.exports), Prune(p.prune or "managed"), p.location)
            for p in self.parts.values()
        )

    def report(self, doc: YamlDocument, path: Path, message: str, *, key: bool = False) -> None:
        self.diagnostics.append(Diagnostic(message, doc.at(path, key=key), format_path(path)))

    def load(self, doc: YamlDocument) -> None:
        self.diagnostics.extend(doc.diagnostics)
        root = doc.value
        if doc.diagnostics or root is None:
            return
        if not isinstance(root, dict):
            got = "a list" if isinstance(root, list) else "a single value"
            message = f"expected a mapping with 'version' and 'dataviews' at the top, got {got}"
            self.report(doc, (), message)
            return
        for problem in check(manifest_validator(), root):
            self.report(doc, problem.path, problem.message, key=problem.at_key)
        defaults = root.get("defaults")
        dataviews = root.get(DATAVIEWS_SECTION)
        for index, dataview in enumerate(dataviews if isinstance(dataviews, list) else []):
            if isinstance(dataview, dict):
                self._dataview(doc, (DATAVIEWS_SECTION, index), dataview, defaults)

    def _dataview(
        self, doc: YamlDocument, base: Path, dataview: dict[str, Any], defaults: Any
    ) -> None:
        ref = _ref(dataview)
        parts = self._parts(doc, base, dataview, ref) if ref else None
        exports = dataview.get("exports")
        for index, export in enumerate(exports if isinstance(exports, list) else []):
            if not isinstance(export, dict):
                continue
            merged = _merge(defaults, export) if isinstance(defaults, dict) else export
            spec = self._export(_Export(doc, (*base, "exports", index), merged), ref)
            if spec is not None and parts is not None:
                parts.exports.append(spec)

    def _parts(
        self, doc: YamlDocument, base: Path, dataview: dict[str, Any], ref: DataviewRef
    ) -> _DataviewParts:
        parts = self.parts.setdefault(ref, _DataviewParts(ref, doc.at(base)))
        prune = dataview.get("prune")
        if not isinstance(prune, str):
            return parts
        here = doc.at((*base, "prune"))
        if parts.prune is not None and parts.prune != prune:
            message = (
                f"prune '{prune}' conflicts with prune '{parts.prune}' for dataview {ref} "
                f"at {parts.prune_location}; set it once"
            )
            self.report(doc, (*base, "prune"), message)
        elif parts.prune is None:
            parts.prune, parts.prune_location = prune, here
        return parts

    def _export(self, export: _Export, ref: DataviewRef | None) -> ExportSpec | None:
        value = export.value
        handler = value.get("handler_type")
        known = handler if isinstance(handler, str) and handler in handlers.HANDLER_TYPES else None
        self._check_key(export, ref)
        if known is not None:
            self._check_target(export, known)
        for name in ("ignore_changes", "sensitive"):
            self._check_field_paths(export, name, known)
        self._check_marker(export)
        resolved, env_refs = self._resolve_env(export)
        if self.diagnostics or known is None:
            return None  # the model is only ever built from a fully valid manifest
        spec = _spec(resolved, known, env_refs, export.doc.at(export.base))
        if ref is not None:
            self._check_destination(export, ref, spec)
        return spec

    def _report_at(self, export: _Export, relative: Path, message: str, key: bool = False) -> None:
        location, path = export.locate(relative, key=key)
        self.diagnostics.append(Diagnostic(message, location, path))

    def _check_key(self, export: _Export, ref: DataviewRef | None) -> None:
        key = export.value.get("key")
        if ref is None or not isinstance(key, str):
            return
        # Trick (speed): keep the export, not its key's place; that is only
        # looked up for the message about a second use.
        first = self.keys.setdefault((ref, key), export)
        if first is not export:
            where = first.doc.at((*first.base, "key"))
            message = (
                f"export key '{key}' is already used in dataview {ref} at {where}; "
                "keys must be unique per dataview"
            )
            self._report_at(export, ("key",), message)

    def _check_destination(self, export: _Export, ref: DataviewRef, spec: ExportSpec) -> None:
        """Mammoth refuses a second export writing to some destinations (an S3 file
        per dataview, a dataset name per project): say so now, not half way
        through an apply (preflight checks each write alone and cannot see it)."""
        scope = handlers.unique_within(spec.handler_type)
        address = handlers.address_of(spec.handler_type, spec.target_properties)
        if scope is None or address is None:
            return
        where = ref if scope == "dataview" else (ref.workspace_id, ref.project_id)
        first = self.destinations.setdefault((scope, where, address), export)
        if first is not export:
            other = first.value.get("key")
            place = first.doc.at(first.base)
            message = (
                f"export '{spec.key}' writes to the same destination as export '{other}' "
                f"at {place}; Mammoth allows one export per destination within a {scope}"
            )
            self._report_at(export, ("target_properties",), message)

    def _check_target(self, export: _Export, handler: str) -> None:
        target = export.value.get("target_properties", {})
        if not isinstance(target, dict):
            return
        for problem in check(target_validator(handler), target):
            self._report_target(export, handler, problem)

    def _report_target(self, export: _Export, handler: str, problem: SchemaProblem) -> None:
        message = problem.message
        if message.startswith(("unknown field", "missing required field")):
            message = f"{message} (handler {handler})"
        relative = ("target_properties", *problem.path)
        self._report_at(export, relative, message, problem.at_key)

    def _check_field_paths(self, export: _Export, name: str, handler: str | None) -> None:
        entries = export.value.get(name)
        if not isinstance(entries, list):
            return
        for index, entry in enumerate(entries):
            if isinstance(entry, str):
                problem = _field_path_problem(entry, handler)
                if problem:
                    self._report_at(export, (name, index), problem)

    def _check_marker(self, export: _Export) -> None:
        extra = export.value.get("additional_properties")
        if isinstance(extra, dict) and MARKER_KEY in extra:
            message = (
                f"'{MARKER_KEY}' is reserved for exportctl's ownership marker; use another name"
            )
            self._report_at(export, ("additional_properties", MARKER_KEY), message, key=True)

    def _resolve_env(self, export: _Export) -> tuple[dict[str, Any], dict[str, str]]:
        env_refs: dict[str, str] = {}

        def text(value: str, relative: Path) -> str:
            result = envsubst.resolve(value, self.environ)
            if isinstance(result, list):
                for problem in result:
                    self._report_at(export, relative, problem.message)
                return value
            if envsubst.names_variable(value):
                env_refs[".".join(map(str, relative))] = value
            return result

        def walk(value: Any, relative: Path) -> Any:
            """``value`` with references resolved.

            Trick (speed): most values hold no reference, so nothing is copied
            and no child's path is built unless a string needs resolving; a
            container comes back as it is when none of its parts changed.
            """
            pairs = value.items() if isinstance(value, dict) else enumerate(value)
            changed: dict[Any, Any] = {}
            for key, item in pairs:
                if isinstance(item, str):
                    new = text(item, (*relative, key)) if envsubst.has_reference(item) else item
                elif isinstance(item, dict | list):
                    new = walk(item, (*relative, key))
                else:
                    continue
                if new is not item:
                    changed[key] = new
            if not changed:
                return value
            if isinstance(value, dict):
                return {**value, **changed}
            return [changed.get(index, item) for index, item in enumerate(value)]

        resolved: dict[str, Any] = walk(export.value, ())
        return resolved, env_refs


def _ref(dataview: dict[str, Any]) -> DataviewRef | None:
    names = ("workspace_id", "project_id", "dataset_id", "dataview_id")
    ids = [dataview.get(n) for n in names]
    ints = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    return DataviewRef(*ints) if len(ints) == len(names) else None


def _merge(defaults: Mapping[str, Any], export: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` under ``export``: mappings merge key by key, anything else is replaced."""
    merged = dict(defaults)
    for name, value in export.items():
        base = merged.get(name)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[name] = _merge(base, value)
        else:
            merged[name] = value
    return merged


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
    if len(parts) > 1 and head not in _MAPPING_FIELDS:
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
        end_of_pipeline=value.get("end_of_pipeline", True),
        sequence=value.get("sequence"),
        run_immediately=value.get("run_immediately", True),
        suspended=value.get("suspended", False),
        protect=value.get("protect", False),
        ignore_changes=tuple(value.get("ignore_changes", ())),
        sensitive=tuple(value.get("sensitive", ())),
        env_refs=freeze(env_refs),
        location=location,
    )
