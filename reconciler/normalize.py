"""One comparable shape for a desired export and a live one.

The manifest and the API describe the same export differently: the server
fills in defaults, answers ``null`` where the manifest says nothing, masks
secrets and adds fields of its own. Both sides are brought into one plain-JSON
*form* so that equal exports compare equal with ``==`` and hash alike:

- keys: ``handler_type, trigger_type, target_properties, condition,
  end_of_pipeline, sequence`` (only when the manifest sets it), ``suspended``,
  ``additional_properties`` (without the ``exportctl`` marker);
- server-computed fields (id, status, times, ``runnable``, ``reordered``,
  ``sub_sequence``, ``last_run_result``, ...) are simply not part of it;
- the handler's target defaults are filled in on both sides;
- ``None`` equals missing at any depth of a mapping; an empty ``condition`` or
  ``additional_properties`` equals a missing one; key order never matters;
- ``ignore_changes`` paths are removed from both sides;
- every secret value (a secret-named field at any depth, or a manifest
  ``sensitive`` path) is replaced by ``plan.SENSITIVE`` and collected apart.
  Secrets are compared only through the marker's salted hash (``identity``),
  so a masked live value never produces a diff by itself and no secret value
  can reach the plan through a form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from reconciler.model import ExportSpec, LiveExport
from reconciler.plan import SENSITIVE
from reconciler.providers.mammoth import handlers

__all__ = [
    "MARKER_FIELD",
    "CompareOptions",
    "Normalized",
    "canonical_json",
    "digest",
    "get_path",
    "normalize_desired",
    "normalize_live",
    "options_for",
    "target_defaults",
]

# The key of exportctl's marker inside ``additional_properties``.
MARKER_FIELD = "exportctl"


@dataclass(frozen=True)
class CompareOptions:
    """What the manifest says about comparing one export (same for both sides)."""

    include_sequence: bool = False
    ignore_changes: tuple[str, ...] = ()
    sensitive: frozenset[str] = frozenset()


@dataclass(slots=True)  # not frozen: a frozen init costs twice as much, twice an export
class Normalized:
    """An export's comparable form plus the secret values taken out of it.

    ``secrets`` maps each secret's dotted path to its value, sorted by path;
    for a live export the values are usually ``handlers.MASK`` and unused.
    Treat it as read-only.
    """

    form: dict[str, Any]
    secrets: tuple[tuple[str, Any], ...]

    @property
    def secret_paths(self) -> frozenset[str]:
        return frozenset(path for path, _ in self.secrets)


def options_for(spec: ExportSpec) -> CompareOptions:
    if not spec.ignore_changes and not spec.sensitive:
        return _PLAIN_OPTIONS[spec.sequence is not None]
    return CompareOptions(
        include_sequence=spec.sequence is not None,
        ignore_changes=spec.ignore_changes,
        sensitive=frozenset(spec.sensitive),
    )


# Shared options for the usual entry (no ignore_changes, no sensitive paths):
# a frozen dataclass costs a few microseconds to build, 10,000 times a plan.
_PLAIN_OPTIONS = {False: CompareOptions(), True: CompareOptions(include_sequence=True)}


@cache
def target_defaults(handler_type: str) -> dict[str, Any]:
    """The handler's target defaults; none for an unknown or schema-less handler."""
    try:
        return handlers.target_defaults(handler_type)
    except (KeyError, FileNotFoundError):
        return {}


class _Export(Protocol):
    """What ExportSpec and LiveExport share: the compared fields, by the same names."""

    @property
    def handler_type(self) -> str: ...
    @property
    def trigger_type(self) -> str | None: ...
    @property
    def target_properties(self) -> Mapping[str, Any]: ...
    @property
    def condition(self) -> Mapping[str, Any]: ...
    @property
    def end_of_pipeline(self) -> bool | None: ...
    @property
    def sequence(self) -> int | None: ...
    @property
    def suspended(self) -> bool: ...
    @property
    def additional_properties(self) -> Mapping[str, Any]: ...


def normalize_desired(spec: ExportSpec, options: CompareOptions | None = None) -> Normalized:
    """Normalize a desired export (``options`` saves recomputing ``options_for(spec)``)."""
    return _normalize(spec, options or options_for(spec))


def normalize_live(live: LiveExport, options: CompareOptions) -> Normalized:
    """Normalize a live export with the options of the desired one it is compared to."""
    return _normalize(live, options)


def _normalize(export: _Export, options: CompareOptions) -> Normalized:
    # Fields are set one by one, not built as a dict and then filtered: this
    # function and _clean_mapping are the planner's hot path (twice an export).
    form: dict[str, Any] = {"handler_type": export.handler_type}
    if export.trigger_type is not None:
        form["trigger_type"] = export.trigger_type
    if export.end_of_pipeline is not None:
        form["end_of_pipeline"] = export.end_of_pipeline
    if options.include_sequence and export.sequence is not None:
        form["sequence"] = export.sequence
    form["suspended"] = export.suspended
    secrets: dict[str, Any] = {}
    target = _with_defaults(export.handler_type, export.target_properties)
    form["target_properties"] = _clean(target, "target_properties", options.sensitive, secrets)
    for name, value in (
        ("condition", export.condition),
        ("additional_properties", _without_marker(export.additional_properties)),
    ):
        cleaned = _clean(value, name, options.sensitive, secrets) if value else value
        if cleaned:  # an empty object means a missing one
            form[name] = cleaned
    for path in options.ignore_changes:
        _remove_path(form, path)
        secrets = {p: v for p, v in secrets.items() if not _is_at_or_under(p, path)}
    return Normalized(form, tuple(sorted(secrets.items())) if secrets else ())


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


# Exact types, checked with one set lookup: cheaper than isinstance on each value.
_SCALAR_TYPES = frozenset({str, int, float, bool})


def _clean(value: Any, path: str, sensitive: frozenset[str], secrets: dict[str, Any]) -> Any:
    """Thaw to plain JSON, drop ``None`` mapping values, take secrets out.

    Secret-named fields are found at any depth, inside lists too (where the
    handler rules do not look), so a secret can never slip into a form.
    """
    if isinstance(value, dict):  # FrozenDict is a dict; no slower Mapping check
        return _clean_mapping(value, path, sensitive, secrets)
    if isinstance(value, list | tuple):
        return [_clean(v, f"{path}.{i}", sensitive, secrets) for i, v in enumerate(value)]
    return value


def _clean_mapping(
    value: Mapping[str, Any], path: str, sensitive: frozenset[str], secrets: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, child in value.items():
        if child is None:
            continue
        if _is_secret_name(name) or (sensitive and f"{path}.{name}" in sensitive):
            secrets[f"{path}.{name}"] = _plain(child)
            out[name] = SENSITIVE
        elif type(child) in _SCALAR_TYPES:  # most values: copied without a call
            out[name] = child
        else:
            out[name] = _clean(child, f"{path}.{name}", sensitive, secrets)
    return out


@cache
def _is_secret_name(name: str) -> bool:
    return handlers.is_secret_field(name)


def _plain(value: Any) -> Any:
    """Thaw to plain JSON and drop ``None`` mapping values, keeping everything else."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _is_at_or_under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".")


def _remove_path(form: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    node: Any = form
    for name in parents:
        node = node.get(name) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


def get_path(form: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in a form, or ``None`` when it is absent."""
    node: Any = form
    for name in path:
        if not isinstance(node, Mapping) or name not in node:
            return None
        node = node[name]
    return node


def canonical_json(value: Any) -> str:
    """The one text of a JSON value: sorted keys, no spaces, UTF-8 kept."""
    return _CANONICAL.encode(value)


# Built once: json.dumps with options builds an encoder per call, which costs
# more than encoding a small value. No circular check: JSON read from a
# manifest or an answer has no cycles. The C encoder is used either way.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False
)


def digest(text: str) -> str:
    """A short sha256 (16 hex digits, 64 bits): enough to tell versions apart."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
