"""Export templates as a declarative kind: the facts a plan needs, no I/O.

- **What the server stores.** It lower-cases ``configuration.format``,
  rebuilds ``configuration.filters`` (``filters.FilterRule.TEMPLATE``), strips
  ``name`` and ``description`` and keeps every other configuration key
  verbatim. ``comparable`` applies the same rules to a manifest entry and to a
  listed template, so the two are equal exactly when the server would store
  them equal; an empty ``filters`` equals none (the server itself turns
  filters of only dropped keys into ``{}``).
- **Identity.** The marker ``{"key", "applied"}`` lives in
  ``configuration.exportctl``: the server keeps unknown configuration keys
  verbatim, and ``description`` is shown to people; it is read and written
  in ``reconciler.identity``'s format. The natural key, by which the core
  adopts an unmarked template, is its name, unique per owner.
- **Ownership.** The listing also returns every other user's ``system`` and
  ``shared`` templates; those are never changed, adopted or reported as
  unmanaged (``is_foreign``).
- **Replace.** An update (PUT) merges ``configuration`` one level deep and
  ignores ``template_type``, so removing a top-level configuration key or
  changing the type needs delete + create (``replace_reasons``). Filters are
  the exception: an update sends ``filters: {}`` to clear them.

Limitation: a template deactivated by hand (``is_active: false``) disappears
from the listing, and exportctl keeps no state to find it by id; creating it
again then fails as a duplicate name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.diagnostics import SourceLocation
from reconciler.identity import MARKER_FIELD, Marker, marker_for, parse_marker
from reconciler.model import FrozenDict, freeze, thaw
from reconciler.normalize import Normalized
from reconciler.providers.datatools.filters import (
    FilterNote,
    FilterRule,
    dropped_filters,
    kept_filters,
)
from reconciler.providers.datatools.wire import Template

__all__ = [
    "MARKER_FIELD",
    "TemplateSpec",
    "comparable",
    "create_body",
    "dropped_keys",
    "is_foreign",
    "marker_of",
    "natural_key",
    "normalized",
    "own_templates",
    "replace_reasons",
    "stored_configuration",
    "template_marker",
    "template_spec",
    "update_body",
]


@dataclass(frozen=True)
class TemplateSpec:
    """A template as the manifest wants it (``key`` is exportctl's identity for it).

    A ``DesiredResource`` for the core: ``type`` is the template_type;
    ``protect`` is always false (the section has no such setting).
    """

    key: str
    name: str
    configuration: FrozenDict
    template_type: str
    description: str = ""
    env_refs: FrozenDict = field(default_factory=FrozenDict)
    location: SourceLocation | None = field(default=None, compare=False)
    protect: bool = False

    @property
    def type(self) -> str:
        return self.template_type


def template_spec(
    entry: Mapping[str, Any],
    env_refs: Mapping[str, str] | None = None,
    location: SourceLocation | None = None,
) -> TemplateSpec:
    """The spec of one schema-valid ``datatools.templates`` entry."""
    return TemplateSpec(
        key=entry["key"],
        name=entry["name"],
        configuration=freeze(entry["configuration"]),
        template_type=entry["template_type"],
        description=entry.get("description", ""),
        env_refs=freeze(dict(env_refs or {})),
        location=location,
    )


def stored_configuration(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """``configuration`` as the server stores it on create (plain JSON)."""
    stored: dict[str, Any] = thaw(configuration)
    if isinstance(stored.get("format"), str):
        stored["format"] = stored["format"].lower()
    if isinstance(stored.get("filters"), Mapping):
        stored["filters"] = kept_filters(stored["filters"], FilterRule.TEMPLATE)
    return stored


def comparable(template: TemplateSpec | Template) -> dict[str, Any]:
    """The form a plan compares: equal for a spec and a live template the server stores alike.

    The marker is left out: it records who wrote the template, not what it is.
    """
    configuration = stored_configuration(template.configuration)
    configuration.pop(MARKER_FIELD, None)
    if not configuration.get("filters"):
        configuration.pop("filters", None)
    return {
        "name": template.name.strip(),
        "description": template.description.strip(),
        "template_type": template.template_type,
        "configuration": configuration,
    }


def dropped_keys(spec: TemplateSpec) -> list[FilterNote]:
    """The configuration keys the server would silently drop, for ``validate`` to warn about."""
    filters = spec.configuration.get("filters")
    if not isinstance(filters, Mapping):
        return []
    return [
        FilterNote(f"configuration.filters.{d.key}", d.reason)
        for d in dropped_filters(filters, FilterRule.TEMPLATE)
    ]


def natural_key(name: str) -> str:
    """What identifies an unmarked template among one user's: its name, as stored."""
    return name.strip()


def is_foreign(template: Template, username: str) -> bool:
    """Another user's template (a ``system`` or ``shared`` one): never touched, never listed."""
    return template.user != username


def own_templates(templates: Iterable[Template], username: str) -> list[Template]:
    return [t for t in templates if not is_foreign(t, username)]


def marker_of(template: Template) -> Marker | None:
    """The exportctl marker a live template carries, or ``None``."""
    return parse_marker(template.configuration.get(MARKER_FIELD))


def normalized(template: TemplateSpec | Template) -> Normalized:
    """The comparable form as the core hashes and diffs it (templates hold no secrets)."""
    return Normalized(comparable(template), ())


def template_marker(spec: TemplateSpec, salt: str) -> dict[str, Any]:
    """The marker to write, in ``reconciler.identity``'s format."""
    return marker_for(spec.key, spec.protect, normalized(spec), salt)


def replace_reasons(spec: TemplateSpec, live: Template) -> tuple[str, ...]:
    """Why ``live`` cannot be updated in place to ``spec``; empty when an update will do."""
    reasons = []
    if spec.template_type != live.template_type:
        reasons.append(
            f"template_type cannot change from {live.template_type!r} to "
            f"{spec.template_type!r}: the server ignores it on update"
        )
    wanted = set(spec.configuration) | {MARKER_FIELD, "filters"}
    for key in sorted(set(live.configuration) - wanted):
        reasons.append(
            f"configuration.{key} is not in the manifest: an update merges configuration "
            "one level deep and cannot remove a key"
        )
    return tuple(reasons)


def create_body(spec: TemplateSpec, marker: Mapping[str, Any]) -> dict[str, Any]:
    """The POST body: the spec as written (the server normalizes it) plus the marker."""
    return {
        "name": spec.name,
        "description": spec.description,
        "template_type": spec.template_type,
        "is_active": True,
        "configuration": {**thaw(spec.configuration), MARKER_FIELD: dict(marker)},
    }


def update_body(spec: TemplateSpec, marker: Mapping[str, Any]) -> dict[str, Any]:
    """The PUT body that makes a template match ``spec`` (see ``replace_reasons`` first).

    ``filters`` is always sent, ``{}`` when the spec has none: the merge keeps
    any key that is not sent, so that is the only way to clear live filters.
    ``template_type`` is not sent; the server would ignore it.
    """
    configuration = {"filters": {}, **thaw(spec.configuration), MARKER_FIELD: dict(marker)}
    return {
        "name": spec.name,
        "description": spec.description,
        "is_active": True,
        "configuration": configuration,
    }
