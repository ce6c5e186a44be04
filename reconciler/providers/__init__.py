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
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from reconciler.errors import ConfigError
from reconciler.providers.base import ProviderFactory

__all__ = ["ENTRY_POINT_GROUP", "factory", "provider_names", "section_owners"]

ENTRY_POINT_GROUP = "exportctl.providers"

# name -> "module:attribute" of its ProviderFactory, and the manifest sections it
# owns (its factory's ``sections``, repeated so a load imports only the
# providers its files use).
_BUILTIN: dict[str, tuple[str, tuple[str, ...]]] = {
    "mammoth": ("reconciler.providers.mammoth.provider:FACTORY", ("dataviews", "defaults")),
    "mailgun": ("reconciler.providers.mailgun.provider:FACTORY", ("mailgun",)),
    "domo": ("reconciler.providers.domo.provider:FACTORY", ("domo",)),
    "datatools": ("reconciler.providers.datatools.provider:FACTORY", ("datatools",)),
}


def provider_names() -> list[str]:
    """Every provider this installation knows: built-ins first, then entry points."""
    extra = sorted(name for name in _entry_points() if name not in _BUILTIN)
    return [*_BUILTIN, *extra]


@cache
def factory(name: str) -> ProviderFactory:
    """The factory of provider ``name``, imported on first use."""
    if name in _BUILTIN:
        module, _, attribute = _BUILTIN[name][0].partition(":")
        loaded: ProviderFactory = getattr(importlib.import_module(module), attribute)
        return loaded
    found = _entry_points().get(name)
    if found is None:
        known = ", ".join(provider_names())
        raise ConfigError(f"unknown provider {name!r}; this exportctl knows: {known}")
    plugin: ProviderFactory = found.load()
    return plugin


def section_owners() -> dict[str, str]:
    """Every manifest section this installation knows, with the provider that owns it.

    Built-ins come from the table above without importing them; a third-party
    provider is loaded to read its ``sections``. A section claimed twice keeps
    its first owner (built-ins first).
    """
    owners: dict[str, str] = {}
    for name, (_, sections) in _BUILTIN.items():
        for section in sections:
            owners.setdefault(section, name)
    for name in _entry_points():
        if name not in _BUILTIN:
            for section in factory(name).sections:
                owners.setdefault(section, name)
    return owners


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}
