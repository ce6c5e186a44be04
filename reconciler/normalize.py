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
from typing import Any

from reconciler.mammoth import handlers
from reconciler.model import ExportSpec, LiveExport
from reconciler.plan import SENSITIVE

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

_EMPTY_MEANS_MISSING = ("condition", "additional_properties")


@dataclass(frozen=True)
class CompareOptions:
    """What the manifest says about comparing one export (same for both sides)."""

    include_sequence: bool = False
    ignore_changes: tuple[str, ...] = ()
    sensitive: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Normalized:
    """An export's comparable form plus the secret values taken out of it.

    ``secrets`` maps each secret's dotted path to its value, sorted by path;
    for a live export the values are usually ``handlers.MASK`` and unused.
    """

    form: dict[str, Any]
    secrets: tuple[tuple[str, Any], ...]

    @property
    def secret_paths(self) -> frozenset[str]:
        return frozenset(path for path, _ in self.secrets)


def options_for(spec: ExportSpec) -> CompareOptions:
    return CompareOptions(
        include_sequence=spec.sequence is not None,
        ignore_changes=spec.ignore_changes,
        sensitive=frozenset(spec.sensitive),
    )


@cache
def target_defaults(handler_type: str) -> dict[str, Any]:
    """The handler's target defaults; none for an unknown or schema-less handler."""
    try:
        return handlers.target_defaults(handler_type)
    except (KeyError, FileNotFoundError):
        return {}


def normalize_desired(spec: ExportSpec) -> Normalized:
    return _normalize(
        {
            "handler_type": spec.handler_type,
            "trigger_type": spec.trigger_type,
            "target_properties": spec.target_properties,
            "condition": spec.condition,
            "end_of_pipeline": spec.end_of_pipeline,
            "sequence": spec.sequence,
            "suspended": spec.suspended,
            "additional_properties": spec.additional_properties,
        },
        options_for(spec),
    )


def normalize_live(live: LiveExport, options: CompareOptions) -> Normalized:
    """Normalize a live export with the options of the desired one it is compared to."""
    return _normalize(
        {
            "handler_type": live.handler_type,
            "trigger_type": live.trigger_type,
            "target_properties": live.target_properties,
            "condition": live.condition,
            "end_of_pipeline": live.end_of_pipeline,
            "sequence": live.sequence,
            "suspended": live.suspended,
            "additional_properties": live.additional_properties,
        },
        options,
    )


def _normalize(fields: dict[str, Any], options: CompareOptions) -> Normalized:
    if not options.include_sequence:
        del fields["sequence"]
    target = {k: v for k, v in fields["target_properties"].items() if v is not None}
    fields["target_properties"] = {**target_defaults(str(fields["handler_type"])), **target}
    fields["additional_properties"] = {
        k: v for k, v in fields["additional_properties"].items() if k != MARKER_FIELD
    }
    secrets: dict[str, Any] = {}
    form: dict[str, Any] = _clean(fields, "", options.sensitive, secrets)
    for name in _EMPTY_MEANS_MISSING:
        if form.get(name) == {}:
            del form[name]
    for path in options.ignore_changes:
        _remove_path(form, path)
        secrets = {p: v for p, v in secrets.items() if not _is_at_or_under(p, path)}
    return Normalized(form, tuple(sorted(secrets.items())))


def _clean(value: Any, path: str, sensitive: frozenset[str], secrets: dict[str, Any]) -> Any:
    """Thaw to plain JSON, drop ``None`` mapping values, take secrets out.

    Secret-named fields are found at any depth, inside lists too (where the
    handler rules do not look), so a secret can never slip into a form.
    """
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for name, child in value.items():
            if child is None:
                continue
            child_path = f"{path}.{name}" if path else str(name)
            if child_path in sensitive or (path and handlers.is_secret_field(str(name))):
                secrets[child_path] = _plain(child)
                out[name] = SENSITIVE
            else:
                out[name] = _clean(child, child_path, sensitive, secrets)
        return out
    if isinstance(value, list | tuple):
        return [_clean(v, f"{path}.{i}", sensitive, secrets) for i, v in enumerate(value)]
    return value


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
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(text: str) -> str:
    """A short sha256 (16 hex digits, 64 bits): enough to tell versions apart."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
