"""The comparable form of a resource, and the helpers every kind builds it with.

The manifest and an API describe the same resource differently: the server
fills in defaults, answers ``null`` where the manifest says nothing, masks
secrets and adds fields of its own. Each provider's kind brings both sides
into one plain-JSON *form* so that equal resources compare equal with ``==``
and hash alike. The rules every kind follows, with the helpers here:

- server-owned fields (ids, statuses, times) are simply not part of a form;
- ``None`` equals missing at any depth of a mapping; key order never matters
  (``clean``);
- ``ignore_changes`` paths are removed from both sides (``without_ignored``);
- every secret value (a secret-named field at any depth, or a manifest
  ``sensitive`` path) is replaced by ``plan.SENSITIVE`` and collected apart
  (``clean``). Secrets are compared only through the marker's salted hash
  (``identity``), so a masked live value never produces a diff by itself and
  no secret value can reach the plan through a form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.plan import SENSITIVE

__all__ = [
    "PLAIN_OPTIONS",
    "CompareOptions",
    "Normalized",
    "SecretNames",
    "canonical_json",
    "clean",
    "digest",
    "get_path",
    "leaves",
    "without_ignored",
]


@dataclass(frozen=True)
class CompareOptions:
    """What the manifest says about comparing one resource (same for both sides).

    ``optional`` names fields compared only because the manifest sets them
    (Mammoth's ``sequence``: left unset, the server's value is accepted).
    """

    optional: frozenset[str] = frozenset()
    ignore_changes: tuple[str, ...] = ()
    sensitive: frozenset[str] = frozenset()


# The options of the usual entry (no ignore_changes, no sensitive paths): a
# frozen dataclass costs a few microseconds to build, 10,000 times a plan.
PLAIN_OPTIONS = CompareOptions()


@dataclass(slots=True)  # not frozen: a frozen init costs twice as much, twice a resource
class Normalized:
    """A resource's comparable form plus the secret values taken out of it.

    ``secrets`` maps each secret's dotted path to its value, sorted by path;
    for a live resource the values are usually the API's mask and unused.
    Treat it as read-only.
    """

    form: dict[str, Any]
    secrets: tuple[tuple[str, Any], ...]

    @property
    def secret_paths(self) -> frozenset[str]:
        return frozenset(path for path, _ in self.secrets)


def without_ignored(
    form: dict[str, Any], secrets: dict[str, Any], ignore_changes: tuple[str, ...]
) -> Normalized:
    """The form and its secrets with every ``ignore_changes`` path taken out of both."""
    for path in ignore_changes:
        _remove_path(form, path)
        secrets = {p: v for p, v in secrets.items() if not _is_at_or_under(p, path)}
    return Normalized(form, tuple(sorted(secrets.items())) if secrets else ())


# Exact types, checked with one set lookup: cheaper than isinstance on each value.
_SCALAR_TYPES = frozenset({str, int, float, bool})


class SecretNames(Protocol):
    """Whether a field of this name holds a secret, at any depth (a kind's rule)."""

    def __call__(self, name: str) -> bool: ...


def clean(
    value: Any,
    path: str,
    sensitive: frozenset[str],
    secrets: dict[str, Any],
    is_secret: SecretNames,
) -> Any:
    """Thaw to plain JSON, drop ``None`` mapping values, take secrets out.

    Secret-named fields are found at any depth, inside lists too (where a
    schema's rules may not look), so a secret can never slip into a form.
    ``is_secret`` is called for every field name: pass a cached function.
    """
    if isinstance(value, dict):  # FrozenDict is a dict; no slower Mapping check
        return _clean_mapping(value, path, sensitive, secrets, is_secret)
    if isinstance(value, list | tuple):
        return [clean(v, f"{path}.{i}", sensitive, secrets, is_secret) for i, v in enumerate(value)]
    return value


def _clean_mapping(
    value: Mapping[str, Any],
    path: str,
    sensitive: frozenset[str],
    secrets: dict[str, Any],
    is_secret: SecretNames,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, child in value.items():
        if child is None:
            continue
        if is_secret(name) or (sensitive and f"{path}.{name}" in sensitive):
            secrets[f"{path}.{name}"] = _plain(child)
            out[name] = SENSITIVE
        elif type(child) in _SCALAR_TYPES:  # most values: copied without a call
            out[name] = child
        else:
            out[name] = clean(child, f"{path}.{name}", sensitive, secrets, is_secret)
    return out


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


def leaves(value: object, path: str = "") -> Iterator[tuple[str, object]]:
    """(dotted path, value) of every leaf under a form, in path order.

    Lists and empty objects are leaves, as in an edit's field changes.
    """
    if not (isinstance(value, dict) and value):
        yield path, value
        return
    for name in sorted(value):
        yield from leaves(value[name], f"{path}.{name}" if path else name)


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
