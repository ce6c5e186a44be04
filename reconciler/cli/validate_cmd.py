"""``exportctl validate``: check manifests offline, with no network and no credentials."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from reconciler.cli.options import format_option, manifest_option, manifest_sources
from reconciler.diagnostics import Diagnostic, Severity, first_lines
from reconciler.manifest import check_manifest, expand_paths
from reconciler.manifest.envsubst import EveryVariableSet
from reconciler.model import DesiredState

__all__ = ["validate"]


@click.command()
@manifest_option
@format_option("text", "json")
@click.option(
    "--skip-env",
    is_flag=True,
    help="Do not require the ${env:NAME} variables to be set (their syntax is still "
    "checked). For pre-commit and pull-request lint jobs that have no secrets.",
)
@click.pass_context
def validate(
    ctx: click.Context, files: tuple[str, ...], output_format: str, skip_env: bool
) -> None:
    """Check manifest files: YAML, schema, keys and environment variables.

    Needs no network and no credentials. Exits 0 when valid (warnings, such as
    a setting the server would silently drop, are shown but pass), 1 with
    every problem found otherwise.

    \b
    Examples:
      exportctl validate -f exports.yaml
      exportctl validate -f exports/ --skip-env --format json
    """
    environ = EveryVariableSet(os.environ) if skip_env else None
    sources = manifest_sources(files)
    state, diagnostics = check_manifest(sources, environ)
    if output_format == "json":
        read = [str(path) for path in expand_paths(sources)]
        click.echo(json.dumps(_as_json(state, read, diagnostics), indent=2))
    else:
        for line in first_lines(diagnostics):
            click.echo(line, err=True)
        if state is not None:
            click.echo(_summary(state))
        else:
            count = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
            click.echo(f"Invalid: {_plural(count, 'error')}.", err=True)
    ctx.exit(0 if state is not None else 1)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(state: DesiredState) -> str:
    """``Valid: 2 dataviews, 5 exports, 1 account, 2 snapshots in 1 file.``

    Scopes are counted by title: one data-tools user's templates and snapshots
    are two scopes, but the manifest names one user.
    """
    counts: dict[str, int] = {}
    titles: set[str] = set()
    for spec in state.scopes:
        if spec.scope.title not in titles:
            titles.add(spec.scope.title)
            counts[spec.scope.noun] = counts.get(spec.scope.noun, 0) + 1
        noun = spec.scope.resource_noun
        counts[noun] = counts.get(noun, 0) + spec.entry_count()
    listed = ", ".join(_plural(count, noun) for noun, count in counts.items()) or "nothing"
    return f"Valid: {listed} in {_plural(len(state.sources), 'file')}."


def _as_json(
    state: DesiredState | None, read: list[str], diagnostics: list[Diagnostic]
) -> dict[str, Any]:
    return {
        "format_version": "2.0",
        "valid": state is not None,
        "files": read,
        "scopes": len(state.scopes) if state else 0,
        "entries": state.entry_count() if state else 0,
        "diagnostics": [d.to_json() for d in diagnostics],
    }
