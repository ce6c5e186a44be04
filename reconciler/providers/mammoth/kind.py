"""Mammoth's exports as a resource kind: their comparable form and the planner's facts.

The form of an export, desired or live (``normalize``):

- keys: ``handler_type, trigger_type, target_properties, condition,
  end_of_pipeline, sequence`` (only when the manifest sets it), ``suspended``,
  ``additional_properties`` (without the ``exportctl`` marker);
- server-computed fields (id, status, times, ``runnable``, ``reordered``,
  ``sub_sequence``, ``last_run_result``, ...) are not part of it;
- the handler's target defaults are filled in on both sides;
- an empty ``condition`` or ``additional_properties`` equals a missing one;
- the core's rules for ``None``, ``ignore_changes`` and secrets
  (``reconciler.normalize``), secrets being any field whose name the handler
  facts call secret.

A handler type cannot change in place: the API keeps an export's handler, so
another one is a replace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from reconciler.diagnostics import SourceLocation
from reconciler.identity import MARKER_FIELD, Marker, marker_for, parse_marker
from reconciler.model import DesiredResource, ListedResource, Prune, ScopeSpec
from reconciler.normalize import PLAIN_OPTIONS, CompareOptions, Normalized, clean, without_ignored
from reconciler.providers.mammoth import handlers
from reconciler.providers.mammoth.model import DataviewRef, ExportSpec, LiveExport

__all__ = [
    "COMPARED_FIELDS",
    "EXPORTS",
    "MAPPING_FIELDS",
    "ExportsKind",
    "dataview_spec",
    "export_marker",
    "normalize",
    "target_defaults",
]

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
MAPPING_FIELDS = ("target_properties", "condition", "additional_properties")
_SEQUENCE = frozenset({"sequence"})


@dataclass(frozen=True)
class _Positioned(CompareOptions):
    """Options of an export whose manifest sets ``sequence``: the position it asks for.

    The server puts an export asked to sit beyond the end of the pipeline at
    the end (``sequence: 5`` among two exports is 2), so an export at the end
    whose live position is below the one asked for is where it will stay:
    compared as if it held that position, or every plan would move it again.
    """

    sequence: int = 0


@cache
def target_defaults(handler_type: str) -> dict[str, Any]:
    """The handler's target defaults; none for an unknown or schema-less handler."""
    try:
        return handlers.target_defaults(handler_type)
    except (KeyError, FileNotFoundError):
        return {}


@cache
def _is_secret_name(name: str) -> bool:
    return handlers.is_secret_field(name)


def _export(resource: object) -> ExportSpec | LiveExport:
    """The resource as Mammoth's own type: the core hands back what the provider made."""
    if not isinstance(resource, ExportSpec | LiveExport):
        raise TypeError(f"not a Mammoth export: {type(resource).__name__}")
    return resource


def _spec(resource: object) -> ExportSpec:
    if not isinstance(resource, ExportSpec):
        raise TypeError(f"not a desired Mammoth export: {type(resource).__name__}")
    return resource


def _listed(resource: object) -> LiveExport:
    if not isinstance(resource, LiveExport):
        raise TypeError(f"not a listed Mammoth export: {type(resource).__name__}")
    return resource


class ExportsKind:
    """The ``ResourceKind`` of Mammoth's pipeline exports."""

    type_field = "handler_type"

    def options(self, desired: DesiredResource) -> CompareOptions:
        spec = _spec(desired)
        if spec.sequence is not None:
            return _Positioned(
                _SEQUENCE, spec.ignore_changes, frozenset(spec.sensitive), spec.sequence
            )
        if not spec.ignore_changes and not spec.sensitive:
            return PLAIN_OPTIONS
        return CompareOptions(frozenset(), spec.ignore_changes, frozenset(spec.sensitive))

    def normalize_desired(
        self, desired: DesiredResource, options: CompareOptions | None = None
    ) -> Normalized:
        return normalize(_spec(desired), options or self.options(desired))

    def normalize_live(self, live: ListedResource, options: CompareOptions) -> Normalized:
        return normalize(_listed(live), options)

    def created_form(self, desired: DesiredResource) -> Normalized:
        """The form without ``ignore_changes`` (apply writes those fields too), and
        without ``handler_type`` (already on the change's line) or ``suspended:
        false`` (says nothing)."""
        options = self.options(desired)
        normalized = normalize(_spec(desired), replace(options, ignore_changes=()))
        form = {
            name: value
            for name, value in normalized.form.items()
            if name != "handler_type" and not (name == "suspended" and value is False)
        }
        return Normalized(form, normalized.secrets)

    def marker(self, live: ListedResource) -> Marker | None:
        return parse_marker(_listed(live).additional_properties.get(MARKER_FIELD))

    def address(self, resource: DesiredResource | ListedResource) -> tuple[Any, ...] | None:
        """Where an export writes, or ``None`` when its handler names no address.

        # Limitation: handlers without a target schema file have no known address,
        # so their unmarked exports are never adopted, only listed as unmanaged.
        """
        export = _export(resource)
        try:
            return handlers.address_of(export.handler_type, export.target_properties)
        except (KeyError, FileNotFoundError):
            return None

    def label(self, live: ListedResource) -> str:
        export = _listed(live)
        address = self.address(export)
        if address is None:
            return f"{export.handler_type}#{export.id}"
        return f"{export.handler_type}:" + "/".join(str(v) for v in address[1:] if v is not None)

    def replace_reason(self, desired: DesiredResource, live: ListedResource) -> str | None:
        if live.type == desired.type:
            return None
        return (
            f"handler_type changes from {live.type!r} to {desired.type!r}, "
            "which the API cannot change in place"
        )

    def fingerprint(self, live: ListedResource) -> Any:
        e = _listed(live)
        # One JSON array per export, fields in a fixed order: cheaper to encode
        # than an object. FrozenDicts and tuples serialize as they are.
        return (
            e.id,
            e.suspended,
            e.handler_type,
            e.trigger_type,
            e.sequence,
            e.end_of_pipeline,
            e.target_properties,
            e.condition,
            e.additional_properties,
        )


EXPORTS = ExportsKind()


def normalize(export: ExportSpec | LiveExport, options: CompareOptions) -> Normalized:
    """An export's comparable form, desired or live, compared as ``options`` say."""
    # Fields are set one by one, not built as a dict and then filtered: this
    # function and ``clean`` are the planner's hot path (twice an export).
    form: dict[str, Any] = {"handler_type": export.handler_type}
    if export.trigger_type is not None:
        form["trigger_type"] = export.trigger_type
    if export.end_of_pipeline is not None:
        form["end_of_pipeline"] = export.end_of_pipeline
    if options.optional and export.sequence is not None and "sequence" in options.optional:
        form["sequence"] = _position(export, options)
    form["suspended"] = export.suspended
    secrets: dict[str, Any] = {}
    sensitive = options.sensitive
    target = _with_defaults(export.handler_type, export.target_properties)
    if isinstance(export, LiveExport) and handlers.MASK in target.values():
        # The server masks it, so it is a secret whatever its name: redacted on
        # both sides of a change (the planner redacts a path either side calls secret).
        masked = {f"target_properties.{n}" for n, v in target.items() if v == handlers.MASK}
        sensitive = sensitive | masked
    form["target_properties"] = clean(
        target, "target_properties", sensitive, secrets, _is_secret_name
    )
    for name, value in (
        ("condition", export.condition),
        ("additional_properties", _without_marker(export.additional_properties)),
    ):
        cleaned = clean(value, name, sensitive, secrets, _is_secret_name) if value else value
        if cleaned:  # an empty object means a missing one
            form[name] = cleaned
    if not options.ignore_changes:
        return Normalized(form, tuple(sorted(secrets.items())) if secrets else ())
    return without_ignored(form, secrets, options.ignore_changes)


def _position(export: ExportSpec | LiveExport, options: CompareOptions) -> int | None:
    """The export's sequence, or the one asked for where the server clamps it to the end."""
    if (
        isinstance(export, LiveExport)
        and export.last
        and isinstance(options, _Positioned)
        and export.sequence is not None
        and options.sequence > export.sequence
    ):
        return options.sequence
    return export.sequence


def _with_defaults(handler_type: str, target: Mapping[str, Any]) -> Mapping[str, Any]:
    """The target with the handler's defaults where it says nothing (or ``null``)."""
    defaults = target_defaults(handler_type)
    if not defaults:
        return target
    return {**defaults, **{k: v for k, v in target.items() if v is not None}}


def _without_marker(extra: Mapping[str, Any]) -> Mapping[str, Any]:
    if MARKER_FIELD not in extra:
        return extra
    return {k: v for k, v in extra.items() if k != MARKER_FIELD}


def export_marker(spec: ExportSpec, salt: str) -> dict[str, Any]:
    """The marker an export written as ``spec`` carries in its ``additional_properties``."""
    normalized = EXPORTS.normalize_desired(spec)
    return marker_for(spec.key, spec.protect, normalized, salt, spec.sensitive)


def dataview_spec(
    ref: DataviewRef,
    exports: Iterable[ExportSpec],
    prune: Prune = Prune.MANAGED,
    location: SourceLocation | None = None,
) -> ScopeSpec:
    """What the manifest wants in one dataview, planned with Mammoth's export facts."""
    return ScopeSpec(ref.scope, tuple(exports), prune, location, kind=EXPORTS)
