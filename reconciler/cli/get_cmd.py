"""``exportctl get``: the live resources of the selected scopes, kubectl-style. Read-only.

It plans exactly like ``exportctl plan`` (the shared session flow) and lists
what was found live, each with whether exportctl manages it and where it
stands against the manifest. It never writes to an API.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from reconciler.cli.options import connection_options, manifest_option, selector_options
from reconciler.cli.session import load_and_plan
from reconciler.inventory import inventory_to_json
from reconciler.render.inventory import render_inventory_table

__all__ = ["get"]


@click.command("get")
@manifest_option
@click.option(
    "-o",
    "--output",
    "output_format",
    type=click.Choice(("table", "json")),
    default="table",
    show_default=True,
    help="A table for people, or JSON for scripts.",
)
@selector_options
@connection_options
def get(
    files: tuple[str, ...],
    output_format: str,
    **where: Any,
) -> int:
    """List the live resources (e.g. exports) of the manifest's scopes, managed or not.

    MANAGED says whether the resource carries exportctl's marker; STATE is
    where it stands against the manifest: in sync, differs, to adopt, to
    delete, or unmanaged. Of snapshots (one-off runs), the runs the plan
    found: fresh, running, or to delete (beyond keep). Lists only; changes
    nothing.

    \b
    Examples:
      exportctl get -f exports/
      exportctl get -f exports/ --target dataview=456 -o json
    """
    # ``where``: the selectors and connection options, as ``load_and_plan`` takes them.
    planned = load_and_plan(files, **where)
    inventory = inventory_to_json(planned.plan)
    if output_format == "json":
        sys.stdout.write(json.dumps(inventory, indent=2) + "\n")
    else:
        sys.stdout.write(render_inventory_table(inventory))
    return 0
