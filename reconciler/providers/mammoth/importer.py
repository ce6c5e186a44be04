"""Live exports in, manifest text out: what ``exportctl import`` writes.

The goal is a manifest that ``exportctl plan`` finds already true: right after
an import the plan shows nothing but adoptions (apply writes the markers).
Hence the rules:

- every compared field reproduces the live value (trigger_type, condition,
  end_of_pipeline, suspended, additional_properties less the marker,
  target_properties); what equals a default is left out, since the planner
  fills defaults in on both sides; ``sequence`` is left out because the
  planner compares it only when the manifest sets it;
- keys come from the destination (``s3-monthly-sales-csv``), so they read well
  and stay stable between imports; an export exportctl already marked keeps
  its marker's key;
- an export whose marker records ``protect`` gets ``protect: true``: the
  planner compares it with the marker, so leaving it out would plan the
  protection lifted, and the apply after would let a removed entry delete it;
- secrets come back masked, so they become ``${env:NAME}`` references;
- ``run_immediately: false`` is set once in ``defaults``: apply sends it when
  it writes the markers, and ``true`` would re-run every imported export.

Pure: no I/O. The output depends only on the live exports, so importing the
same state twice gives the same bytes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from reconciler.identity import MARKER_FIELD
from reconciler.model import LiveScope, thaw
from reconciler.providers.mammoth import handlers
from reconciler.providers.mammoth.kind import EXPORTS
from reconciler.providers.mammoth.model import DataviewRef, LiveExport, present_exports

__all__ = [
    "KEY_PATTERN",
    "ImportResult",
    "SecretVariable",
    "Skipped",
    "assign_keys",
    "base_key",
    "env_var_name",
    "render_manifest",
]

# The manifest schema's key pattern (schemas/manifest.schema.json).
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_KEY_MAX = 63
# Address fields that name a server or a saved connection, not the destination
# inside it: they make keys long and rarely tell two exports of one dataview apart.
_KEY_SKIPPED_FIELDS = frozenset({"connection_id", "host", "port"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NOT_ENV = re.compile(r"[^A-Z0-9]+")
_ENV_REFERENCE = "${env:"
_INDENT = " " * 6


@dataclass(frozen=True)
class SecretVariable:
    """An environment variable the imported manifest reads a masked secret from."""

    name: str
    ref: DataviewRef
    key: str
    path: str
    export_id: int


@dataclass(frozen=True)
class Skipped:
    """A live export left out of the manifest, and why (shown as a comment and a warning)."""

    ref: DataviewRef
    export_id: int
    reason: str


@dataclass(frozen=True)
class ImportResult:
    """The manifest text and what its user must know about it."""

    text: str
    exports: int
    variables: tuple[SecretVariable, ...]
    skipped: tuple[Skipped, ...]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", _SCHEME.sub("", ascii_text.lower())).strip("-")


def _fit(text: str, limit: int) -> str:
    return text[:limit].rstrip("-._")


def base_key(handler_type: str, target_properties: Mapping[str, Any], export_id: int) -> str:
    """The key an unmarked export gets before collisions are resolved.

    Built from the handler and the destination fields that differ from the
    handler's defaults (``s3`` + ``monthly_sales.csv`` -> ``s3-monthly-sales-csv``);
    the export id stands in when the destination says nothing.
    """
    defaults = _defaults(handler_type)
    parts: list[str] = []
    for name in handlers.address_fields(handler_type) if handler_type in _KNOWN else ():
        value = target_properties.get(name)
        if name in _KEY_SKIPPED_FIELDS or value is None or value == defaults.get(name):
            continue
        if isinstance(value, list | tuple):
            value = "-".join(sorted(map(str, value)))
        parts.append(_slug(str(value)))
    tail = "-".join(p for p in parts if p) or str(export_id)
    return _fit(f"{_slug(handler_type)}-{tail}", _KEY_MAX)


def _suffixed(base: str, number: int) -> str:
    if number == 1:
        return base
    suffix = f"-{number}"
    return _fit(base, _KEY_MAX - len(suffix)) + suffix


def assign_keys(exports: Iterable[LiveExport]) -> tuple[dict[int, str], list[tuple[int, str]]]:
    """Keys for one dataview's present exports, and the exports left out.

    Marked exports keep their marker key (the lowest id wins a duplicated key;
    the others are left out: the planner deletes them as duplicates whatever
    the manifest says). Unmarked ones, taken by id, get ``base_key``, then
    ``-2``, ``-3``, ... when taken.
    """
    present = sorted((e for e in exports if not e.deleted), key=lambda e: e.id)
    keys: dict[int, str] = {}
    left_out: list[tuple[int, str]] = []
    owner: dict[str, int] = {}
    for export in present:
        marker = EXPORTS.marker(export)
        if marker is None or not KEY_PATTERN.match(marker.key):
            continue
        if marker.key in owner:
            left_out.append((export.id, _duplicate_reason(marker.key, owner[marker.key])))
        else:
            owner[marker.key] = export.id
            keys[export.id] = marker.key
    used = set(owner)
    dropped = {export_id for export_id, _ in left_out}
    for export in present:
        if export.id in keys or export.id in dropped:
            continue
        base = base_key(export.handler_type, export.target_properties, export.id)
        number = 1
        while _suffixed(base, number) in used:
            number += 1
        keys[export.id] = _suffixed(base, number)
        used.add(keys[export.id])
    return keys, left_out


def _duplicate_reason(key: str, kept: int) -> str:
    return (
        f"a duplicate of key {key!r}, kept by export {kept}; "
        "the plan deletes it, as it deletes every duplicate exportctl made"
    )


def env_var_name(ref: DataviewRef, key: str, path: str) -> str:
    """``EXPORTCTL_<dataview>_<KEY>_<FIELD>``: where a masked secret is read from.

    ``path`` is dotted from the export (``target_properties.password``); the
    ``target_properties`` part is left out, where nearly every secret lives.
    """
    relative = path.removeprefix("target_properties.")
    words = (f"EXPORTCTL_{ref.dataview_id}", key.upper(), relative.upper())
    return "_".join(_NOT_ENV.sub("_", w).strip("_") for w in words)


_KNOWN = frozenset(handlers.HANDLER_TYPES)


def _defaults(handler_type: str) -> dict[str, Any]:
    return handlers.target_defaults(handler_type) if handler_type in _KNOWN else {}


def _why_not_importable(export: LiveExport) -> str | None:
    if export.handler_type not in _KNOWN:
        return f"handler_type {export.handler_type!r} is not one exportctl knows"
    if EXPORTS.address(export) is None:
        return (
            "it names no destination, so plan could not match it to a manifest entry "
            "(it would add a second export)"
        )
    return None


class _Writer:
    """Builds the document for a set of dataviews, collecting variables and skips."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.variables: list[SecretVariable] = []
        self.skipped: list[Skipped] = []
        self.exports = 0
        self._names: set[str] = set()

    def dataview(self, live: LiveScope) -> None:
        ref = DataviewRef.of(live.scope)
        self.lines += [
            f"  - workspace_id: {ref.workspace_id}",
            f"    project_id: {ref.project_id}",
            f"    dataset_id: {ref.dataset_id}",
            f"    dataview_id: {ref.dataview_id}",
            "    prune: managed",
        ]
        keys, left_out = assign_keys(present_exports(live))
        skips = [Skipped(ref, export_id, reason) for export_id, reason in left_out]
        entries: list[str] = []
        for export in present_exports(live):
            reason = _why_not_importable(export)
            if reason is not None and export.id in keys:
                skips.append(Skipped(ref, export.id, reason))
            elif export.id in keys:
                entries += self._export(ref, export, keys[export.id])
        skips.sort(key=lambda s: s.export_id)
        self.skipped += skips
        notes = [f"{_INDENT}# export {s.export_id} not imported: {s.reason}" for s in skips]
        self.lines += ["    exports:", *notes, *entries] if entries else ["    exports: []", *notes]

    def _export(self, ref: DataviewRef, export: LiveExport, key: str) -> list[str]:
        self.exports += 1
        status = export.status or "unknown"
        if EXPORTS.marker(export) is not None:
            status += ", already managed by exportctl"
        body = self._body(ref, export, key)
        dumped = yaml.safe_dump([body], sort_keys=False, allow_unicode=True, width=1000)
        return [
            f"{_INDENT}# imported from export {export.id} of dataview {ref} (status {status})",
            *(_INDENT + line for line in dumped.splitlines()),
        ]

    def _body(self, ref: DataviewRef, export: LiveExport, key: str) -> dict[str, Any]:
        body: dict[str, Any] = {"key": key, "handler_type": export.handler_type}
        if export.trigger_type is not None:
            body["trigger_type"] = export.trigger_type
        target = _ordered_target(
            export.handler_type, _renamed(export.handler_type, _without_defaults(export))
        )
        objects = {
            "target_properties": target,
            "condition": thaw(export.condition),
            "additional_properties": {
                k: thaw(v) for k, v in export.additional_properties.items() if k != MARKER_FIELD
            },
        }
        for name, value in objects.items():
            value = self._secrets_out(ref, export.id, key, name, value)
            if value:
                body[name] = value
        if export.end_of_pipeline is False:
            # A position in the pipeline is its sequence, which implies
            # end_of_pipeline: false (and is what the manifest must say).
            if export.sequence is not None:
                body["sequence"] = export.sequence
            else:
                body["end_of_pipeline"] = False
        if export.suspended:
            body["suspended"] = True
        if _protected(export):
            body["protect"] = True
        return body

    def _secrets_out(
        self, ref: DataviewRef, export_id: int, key: str, path: str, value: Any
    ) -> Any:
        """Escape ``${env:`` in live text; masked secrets become ``${env:NAME}``."""
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for name, child in value.items():
                child_path = f"{path}.{name}"
                if handlers.is_secret_field(str(name)) and isinstance(child, str):
                    out[name] = self._variable(ref, export_id, key, child_path)
                else:
                    out[name] = self._secrets_out(ref, export_id, key, child_path, child)
            return out
        if isinstance(value, list):
            return [self._secrets_out(ref, export_id, key, path, v) for v in value]
        if isinstance(value, str):
            return value.replace(_ENV_REFERENCE, "$" + _ENV_REFERENCE)
        return value

    def _variable(self, ref: DataviewRef, export_id: int, key: str, path: str) -> str:
        base = env_var_name(ref, key, path)
        name, number = base, 1
        while name in self._names:
            number += 1
            name = f"{base}_{number}"
        self._names.add(name)
        self.variables.append(SecretVariable(name, ref, key, path, export_id))
        return "${env:" + name + "}"


def _protected(export: LiveExport) -> bool:
    """Whether the export was last applied with ``protect: true``: only its marker says so,
    the API has no such field."""
    marker = EXPORTS.marker(export)
    return marker is not None and marker.protect


def _without_defaults(export: LiveExport) -> dict[str, Any]:
    """Target fields that are set and differ from the handler's defaults."""
    defaults = _defaults(export.handler_type)
    return {
        name: thaw(value)
        for name, value in export.target_properties.items()
        if value is not None and not (name in defaults and defaults[name] == value)
    }


def _renamed(handler_type: str, target: Mapping[str, Any]) -> dict[str, Any]:
    """Fields of older Mammoth examples under the one current name that replaces them
    (``table_name`` -> ``table``, ``recipients`` -> ``emails``), so the imported
    manifest validates; fields with no one-to-one successor stay, for validate to
    explain."""
    replaced = handlers.replaced_fields(handler_type)
    renamed: dict[str, Any] = {}
    for name, value in target.items():
        new = replaced.get(name, ())
        single = new[0] if len(new) == 1 and new[0] not in target else None
        renamed[single or name] = value
    return renamed


def _ordered_target(handler_type: str, target: Mapping[str, Any]) -> dict[str, Any]:
    """Fields in the order the handler's schema lists them, unknown ones after, sorted."""
    known = list(handlers.target_schema(handler_type).get("properties", {}))
    rank = {name: index for index, name in enumerate(known)}
    return dict(sorted(target.items(), key=lambda item: (rank.get(item[0], len(known)), item[0])))


def render_manifest(dataviews: Sequence[LiveScope], *, source: str) -> ImportResult:
    """The manifest for ``dataviews`` (sorted by ref), read from ``source`` (for the header)."""
    writer = _Writer()
    for live in sorted(dataviews, key=lambda dv: DataviewRef.of(dv.scope)):
        writer.dataview(live)
    header = _header(source, len(dataviews), writer.exports, writer.variables)
    text = "\n".join([*header, *writer.lines]) + "\n"
    return ImportResult(text, writer.exports, tuple(writer.variables), tuple(writer.skipped))


def _header(
    source: str, dataviews: int, exports: int, variables: Sequence[SecretVariable]
) -> list[str]:
    lines = [
        "# yaml-language-server: $schema=./manifest.schema.json",
        "# (write the schema next to this file with: exportctl schema > manifest.schema.json)",
        "#",
        f"# Written by 'exportctl import mammoth' from {source}: "
        f"{_plural(exports, 'export')} of {_plural(dataviews, 'dataview')}.",
        "# 'exportctl plan -f <this file>' should now show only adoptions; 'apply' writes",
        "# exportctl's markers on those exports and changes nothing else.",
    ]
    if variables:
        lines += [
            "#",
            "# The API masks secrets, so they are read from the environment. Before plan",
            "# or apply, set each variable to the value the export uses today:",
            *(f"#   {v.name}  ({v.path} of export {v.export_id})" for v in variables),
        ]
    return [
        *lines,
        "version: 1",
        "",
        "defaults:",
        "  # apply sends run_immediately when it writes the markers; false keeps it",
        "  # from re-running every imported export. Set true on an export to run it.",
        "  run_immediately: false",
        "",
        "dataviews:" if dataviews else "dataviews: []",
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
