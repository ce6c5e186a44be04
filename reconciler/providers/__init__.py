"""The provider registry: which packages speak to which platforms.

Built-in providers are named here with the module that defines them and
imported only when a command needs them, so ``exportctl --help`` or a plan
that touches one platform never pays for the others' imports. Third-party
providers register a ``ProviderFactory`` under the ``exportctl.providers``
entry-point group::

    [project.entry-points."exportctl.providers"]
    acme = "acme_exportctl:FACTORY"

A built-in name cannot be taken over by an entry point. See
``docs/providers.md``.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from functools import cache
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError
from reconciler.providers.base import ProviderFactory

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from reconciler.manifest.sections import SectionLoader

__all__ = ["ENTRY_POINT_GROUP", "factory", "provider_names", "section_loader", "section_owners"]

ENTRY_POINT_GROUP = "exportctl.providers"

# name -> "module:attribute" of its ProviderFactory, the manifest sections it
# owns and "module:class" of its section loader (its factory's ``sections``
# and ``section_loader()``, repeated so a load imports only the providers its
# files use, and of those only what reads their sections: ``validate`` never
# imports an HTTP client).
_BUILTIN: dict[str, tuple[str, tuple[str, ...], str]] = {
    "mammoth": (
        "reconciler.providers.mammoth.provider:FACTORY",
        ("dataviews", "defaults"),
        "reconciler.providers.mammoth.manifest:DataviewsLoader",
    ),
    "mailgun": (
        "reconciler.providers.mailgun.provider:FACTORY",
        ("mailgun",),
        "reconciler.providers.mailgun.section:MailgunLoader",
    ),
    "domo": (
        "reconciler.providers.domo.provider:FACTORY",
        ("domo",),
        "reconciler.providers.domo.section:DomoSectionLoader",
    ),
    "datatools": (
        "reconciler.providers.datatools.provider:FACTORY",
        ("datatools",),
        "reconciler.providers.datatools.manifest:DatatoolsLoader",
    ),
}


def provider_names() -> list[str]:
    """Every provider this installation knows: built-ins first, then entry points."""
    extra = sorted(name for name in _entry_points() if name not in _BUILTIN)
    return [*_BUILTIN, *extra]


@cache
def factory(name: str) -> ProviderFactory:
    """The factory of provider ``name``, imported on first use."""
    if name in _BUILTIN:
        loaded: ProviderFactory = _load(_BUILTIN[name][0])
        return loaded
    found = _entry_points().get(name)
    if found is None:
        known = ", ".join(provider_names())
        raise ConfigError(f"unknown provider {name!r}; this exportctl knows: {known}")
    plugin: ProviderFactory = found.load()
    return plugin


def section_loader(name: str) -> SectionLoader:
    """A fresh reader of provider ``name``'s sections, its factory not imported if built in."""
    if name in _BUILTIN:
        made: SectionLoader = _load(_BUILTIN[name][2])()
        return made
    return factory(name).section_loader()


def _load(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def section_owners(used: Collection[str] | None = None) -> dict[str, str]:
    """Every manifest section this installation knows, with the provider that owns it.

    Built-ins come from the table above without importing them; a third-party
    provider is loaded to read its ``sections``. A section claimed twice keeps
    its first owner (built-ins first).

    ``used`` (the section names a file writes at its top level) may spare
    the search for third-party providers: when there is at least one and all
    are built-in sections, no entry point can own any of them, and looking
    (importing ``importlib.metadata``, then a scan of every installed
    package) costs about 40 ms of a command's start. Then only the built-ins
    are returned.
    """
    owners = dict(_BUILTIN_OWNERS)
    if used and all(section in owners for section in used):
        return owners
    for name in _entry_points():
        if name not in _BUILTIN:
            for section in factory(name).sections:
                owners.setdefault(section, name)
    return owners


def _builtin_owners() -> dict[str, str]:
    owners: dict[str, str] = {}
    for name, (_, sections, _) in _BUILTIN.items():
        for section in sections:
            owners.setdefault(section, name)
    return owners


_BUILTIN_OWNERS = _builtin_owners()


@cache
def _entry_points() -> dict[str, EntryPoint]:
    from importlib.metadata import entry_points  # ~30 ms to import: only when asked

    return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}
