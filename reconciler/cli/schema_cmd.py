"""``exportctl schema``: print the manifest JSON Schema for editors and CI.

The printed schema is self-contained and covers every provider: the core
adds ``version``, each provider its sections and their definitions
(``ProviderFactory.schema_parts``), so the output works wherever it is saved
(an editor cannot always follow relative ``$ref``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from reconciler.errors import ConfigError
from reconciler.providers import factory, provider_names

__all__ = ["bundled_manifest_schema", "schema", "type_schema", "types_with_schema"]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"


class _TypeOption(click.Option):
    """An option whose help ends with the types that have a schema.

    Found when the help is shown, not when the module loads: listing them
    loads every provider (plugins too), and loading the command to complete
    or parse its options should not, nor fail when a plugin does.
    """

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        names, text = record
        return names, f"{text} TYPE is one of: {', '.join(types_with_schema())}."


@click.command()
@click.option(
    "--type",
    "--target",
    "type_name",
    cls=_TypeOption,
    default=None,
    metavar="TYPE",
    help="Print the schema of one type's settings instead (Mammoth: a handler type's "
    "target_properties), e.g. s3. --target is the older name of this option: here it "
    "takes a type, not a selector as on plan, drift and apply.",
)
def schema(type_name: str | None) -> None:
    """Print the manifest JSON Schema (self-contained).

    \b
    Save it next to your manifests and point your editor at it:
      exportctl schema > manifest.schema.json
      # first line of exports.yaml:
      # yaml-language-server: $schema=./manifest.schema.json
    """
    document = type_schema(type_name) if type_name else bundled_manifest_schema()
    click.echo(json.dumps(document, indent=2))


def type_schema(type_name: str) -> dict[str, Any]:
    """The first provider's schema for ``type_name``; ``ConfigError`` listing the known ones."""
    for name in provider_names():
        found = factory(name).type_schema(type_name)
        if found is not None:
            return found
    # NAME=VALUE is a selector, what --target takes on the other commands.
    mixup = " schema --type (or --target) takes a type, not a selector." if "=" in type_name else ""
    raise ConfigError(
        f"No provider has a type {type_name!r}.{mixup} Types with a schema: "
        f"{', '.join(types_with_schema())}."
    )


def types_with_schema() -> list[str]:
    """Every provider's types that ``schema --type`` can print, in registry order."""
    owners = [factory(name) for name in provider_names()]
    return [t for owner in owners for t in owner.types if owner.type_schema(t) is not None]


def bundled_manifest_schema() -> dict[str, Any]:
    """``version`` plus every provider's sections, with all their definitions inlined."""
    properties: dict[str, Any] = {
        "version": {"description": "The manifest format; this exportctl reads 1.", "const": 1}
    }
    defs: dict[str, Any] = {}
    for name in provider_names():
        parts = factory(name).schema_parts()
        clash = sorted(defs.keys() & parts.defs.keys())
        if clash:
            raise ConfigError(
                f"Provider {name!r} defines {', '.join(clash)} in its manifest schema, as "
                "another provider does; the schema cannot be bundled. Report it to the "
                "provider's authors."
            )
        properties.update(parts.properties)
        defs.update(parts.defs)
    return {
        "$schema": _DRAFT,
        "$id": "https://exportctl.invalid/schemas/manifest.bundled.schema.json",
        "title": "exportctl manifest",
        "description": "Exports as code: `version: 1` and one section per provider.",
        "type": "object",
        "required": ["version"],
        "properties": properties,
        "additionalProperties": False,
        "$defs": defs,
    }
