"""``exportctl import mammoth``: write a manifest from the exports that exist today.

Day one with exportctl: the exports were made by hand. Import lists them and
writes a manifest that ``plan`` finds already true except for adoptions, so
the first ``apply`` only writes exportctl's markers. The work is done by the
pure ``importer`` beside this module; this command lists, writes and tells the
user which secrets to provide. It is Mammoth's own command: only Mammoth's
API is addressed by dataview ids.
"""

from __future__ import annotations

import asyncio
import os

import click

from reconciler.cli.options import (
    import_connection_options,
    import_out_option,
    write_manifest,
)
from reconciler.errors import ConfigError
from reconciler.live import fetch_live
from reconciler.model import DesiredState, LiveScope, Scope
from reconciler.providers.base import Connection, Providers
from reconciler.providers.mammoth.client import endpoint_label
from reconciler.providers.mammoth.connect import base_url_from
from reconciler.providers.mammoth.importer import ImportResult, render_manifest
from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.provider import FACTORY

__all__ = ["ALL_IN_PROJECT_UNSUPPORTED", "import_"]

# Decision: refused, not guessed. The exports API lists the exports of one
# dataview; it has no call that lists the dataviews of a project, and the
# sandbox has none either, so there is nothing honest to build this on.
ALL_IN_PROJECT_UNSUPPORTED = (
    "--all-in-project is not supported: Mammoth's exports API has no call that lists "
    "the dataviews of a project, so exportctl cannot find them. Name each dataview "
    "with --dataview WORKSPACE/PROJECT/DATASET/DATAVIEW (repeatable); the ids are in "
    "the dataview's URL in Mammoth."
)
NOTHING_TO_IMPORT = (
    "Nothing to import: name at least one dataview with --dataview "
    "WORKSPACE/PROJECT/DATASET/DATAVIEW (repeatable)."
)


def _parse_refs(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[DataviewRef, ...]:
    refs = []
    for value in values:
        try:
            refs.append(DataviewRef.parse(value))
        except ValueError as error:
            raise click.BadParameter(str(error), ctx, param) from None
    return tuple(sorted(set(refs)))


@click.command("import")
@click.option(
    "--dataview",
    "dataviews",
    multiple=True,
    callback=_parse_refs,
    metavar="W/P/D/V",
    help="A dataview whose exports to import, as workspace/project/dataset/dataview ids. "
    "Repeatable.",
)
@click.option(
    "--all-in-project",
    metavar="W/P",
    help="Not supported: the exports API cannot list a project's dataviews. "
    "Use --dataview for each.",
)
@import_out_option
@import_connection_options(
    base_url_variable="MAMMOTH_BASE_URL",
    sandbox_lists="Import lists the exports of each --dataview, creating the dataview "
    "if the DB does not have it yet.",
    seedable=True,
)
def import_(
    dataviews: tuple[DataviewRef, ...],
    all_in_project: str | None,
    out_path: str | None,
    endpoint: str | None,
    sandbox_db: str | None,
    parallelism: int,
) -> None:
    """Write a manifest describing the live exports of the named dataviews.

    Run 'exportctl plan' on it next: it should show only adoptions. Masked
    secrets become ${env:NAME} references; the variables to set are listed
    on stderr and at the top of the file.

    \b
    Example:
      exportctl import mammoth --dataview 1/1/123/456 --out exports.yaml
    """
    if all_in_project is not None:
        raise ConfigError(ALL_IN_PROJECT_UNSUPPORTED)
    if not dataviews:
        raise ConfigError(NOTHING_TO_IMPORT)

    connection = Connection(endpoint=endpoint, sandbox_db=sandbox_db, parallelism=parallelism)
    scopes = [ref.scope for ref in dataviews]
    provider = FACTORY.open(connection, DesiredState(()), scopes=scopes)

    async def listed() -> dict[Scope, LiveScope]:
        async with provider:
            providers = Providers({FACTORY.name: provider})
            return await fetch_live(providers, scopes, ids_from="command line")

    live = asyncio.run(listed())
    result = render_manifest(list(live.values()), source=_source(endpoint, sandbox_db))
    write_manifest(result.text, out_path)
    _tell(result, out_path)


def _source(endpoint: str | None, sandbox_db: str | None) -> str:
    if sandbox_db is not None:
        return f"the embedded sandbox {sandbox_db}"
    return endpoint_label(base_url_from(endpoint, os.environ))


def _tell(result: ImportResult, out_path: str | None) -> None:
    """What was written and what the user must do next, on stderr."""
    where = out_path or "stdout"
    click.echo(f"Imported {result.exports} exports into {where}.", err=True)
    for skipped in result.skipped:
        click.echo(
            f"Warning: export {skipped.export_id} of dataview {skipped.ref} was not imported: "
            f"{skipped.reason}.",
            err=True,
        )
    if result.variables:
        click.echo(
            "Set these environment variables to the secrets the exports use today "
            "(the API masks them) before plan or apply:",
            err=True,
        )
        for variable in result.variables:
            click.echo(
                f"  {variable.name}  ({variable.path} of export {variable.export_id}, "
                f"dataview {variable.ref})",
                err=True,
            )
