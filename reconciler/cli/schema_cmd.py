"""``exportctl schema``: print the manifest JSON Schema for editors and CI.

The printed schema is self-contained: the per-handler target schemas that the
file in ``schemas/`` references are inlined under ``$defs``, so the output
works wherever it is saved (an editor cannot always follow relative ``$ref``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import click

from reconciler._resources import load_schema
from reconciler.providers.mammoth.handlers import HANDLER_TYPES, target_schema

__all__ = ["bundled_manifest_schema", "schema"]


@click.command()
@click.option(
    "--target",
    "handler_type",
    type=click.Choice(HANDLER_TYPES),
    default=None,
    metavar="HANDLER_TYPE",
    help="Print the target_properties schema of one handler type instead, e.g. s3.",
)
def schema(handler_type: str | None) -> None:
    """Print the manifest JSON Schema (self-contained).

    \b
    Save it next to your manifests and point your editor at it:
      exportctl schema > manifest.schema.json
      # first line of exports.yaml:
      # yaml-language-server: $schema=./manifest.schema.json
    """
    document = target_schema(handler_type) if handler_type else bundled_manifest_schema()
    click.echo(json.dumps(document, indent=2))


def bundled_manifest_schema() -> dict[str, Any]:
    """The manifest schema with every ``targets/<handler>.json`` reference inlined."""
    document = copy.deepcopy(load_schema("manifest.schema.json"))
    defs = document["$defs"]
    for branch in defs["targetByHandler"]["allOf"]:
        properties = branch["then"]["properties"]
        handler = properties["target_properties"]["$ref"].removeprefix("targets/")
        handler = handler.removesuffix(".json")
        target = copy.deepcopy(target_schema(handler))
        target.pop("$schema", None)
        target.pop("$id", None)
        defs[f"target_{handler}"] = target
        properties["target_properties"] = {"$ref": f"#/$defs/target_{handler}"}
    return document
