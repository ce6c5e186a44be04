"""``exportctl import PROVIDER``: write a manifest from what is live on a platform.

Each provider brings its own importer (what to list, how its entries read),
so ``import`` is a group whose subcommands are the providers that have one
(``ProviderFactory.import_command``), loaded only when asked for.
"""

from __future__ import annotations

import importlib

import click

from reconciler.providers import factory, provider_names

__all__ = ["import_"]


class _ProviderImports(click.Group):
    """``import NAME`` runs provider NAME's import command."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in provider_names() if factory(name).import_command]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in provider_names():
            return None
        reference = factory(cmd_name).import_command
        if not reference:
            return None
        module, _, attribute = reference.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group("import", cls=_ProviderImports)
def import_() -> None:
    """Write a manifest from live resources, to start managing them as code.

    \b
    Example:
      exportctl import mammoth --dataview 1/1/123/456 --out exports.yaml
    """
