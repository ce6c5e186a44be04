"""Facts about Mammoth's export handler types, read from ``schemas/targets``.

Each ``schemas/targets/<handler_type>.json`` is the single source of truth for
one handler: the JSON Schema of its ``target_properties`` (with the SDK's
defaults as ``default``), plus two exportctl keywords:

- ``x-exportctl-address``: the target fields that name the destination (S3
  file, dataset name, connection+schema+table, ...). Two exports of a dataview
  with the same address write to the same place; adoption matches on it.
- ``x-exportctl-default-trigger-type``: the trigger type the SDK uses when the
  manifest sets none.
- ``x-exportctl-unique-within``: ``dataview`` or ``project`` where Mammoth
  refuses a second export writing to the same address (an S3 file, an
  internal dataset name), so ``validate`` can catch it before apply.
- ``x-exportctl-replaced``: target fields of older Mammoth examples (the
  seed documents' ``connection_id``/``table_name``, ``recipients``) and the
  current SDK's fields that replace them, so a manifest written the old way
  is told what to write instead.

The fields the current official SDK requires, allows and defaults for each
handler (``mammoth/_pure/builders.py``) are the schema's ``required``,
``properties`` and ``default``; ``additionalProperties`` is true only for the
handlers the SDK lets carry open-ended keys. Secret fields are marked
``writeOnly`` (sent, never shown back).

The manifest validator, the planner's normalization and the sandbox all read
these, so they cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from reconciler._resources import load_schema

__all__ = [
    "HANDLER_TYPES",
    "MASK",
    "STATUSES",
    "TRIGGER_TYPES",
    "address_fields",
    "address_of",
    "default_trigger_type",
    "is_secret_field",
    "replaced_fields",
    "secret_fields",
    "secret_paths",
    "target_defaults",
    "target_schema",
    "unique_within",
]

# The order of Mammoth's ExportHandlerType enum.
HANDLER_TYPES: tuple[str, ...] = (
    "postgres",
    "csv_file",
    "s3",
    "mysql",
    "mssql",
    "ftp",
    "sftp",
    "email",
    "elasticsearch",
    "powerbi",
    "redshift",
    "bigquery",
    "internal_dataset",
    "publishdb",
    "sharepoint",
    "onedrive",
    "azure_blob",
    "tableau_server",
    "generic_rest_api_export",
)
TRIGGER_TYPES: tuple[str, ...] = ("none", "pipeline", "schedule")
STATUSES: tuple[str, ...] = (
    "deleted",
    "executed",
    "executing",
    "edited",
    "added",
    "suspended",
    "suspending",
)

# What the API shows instead of a secret value.
MASK = "********"

# Secret-looking names, for fields no handler schema declares (the open-ended
# keys of bigquery and generic_rest_api_export, nested header maps). Wide on
# purpose: a plain value taken for a secret is only redacted in plans, a
# secret taken for a plain value is printed in every plan and PR comment.
_SECRET_NAME = re.compile(
    r"password|passwd|pwd|passphrase|secret|token|credential|private_?key|api_?key"
    r"|access_?key|account_?key|sas_?key|^key$|auth|cookie|bearer|signature"
    r"|service_?account|key_?file",
    re.IGNORECASE,
)


def secret_fields(handler_type: str) -> frozenset[str]:
    """The target fields of a handler that hold secrets (``writeOnly`` in its schema)."""
    properties = target_schema(handler_type).get("properties", {})
    return frozenset(name for name, spec in properties.items() if spec.get("writeOnly"))


def replaced_fields(handler_type: str) -> Mapping[str, tuple[str, ...]]:
    """Old target field -> the current SDK's fields that replace it (none: just remove it)."""
    replaced = target_schema(handler_type).get("x-exportctl-replaced", {})
    return {old: tuple(new) for old, new in replaced.items()}


@cache
def _declared_fields() -> tuple[frozenset[str], frozenset[str]]:
    """(secret, plain): every handler's declared target fields, by whether they are secret."""
    secret: set[str] = set()
    plain: set[str] = set()
    for handler_type in HANDLER_TYPES:
        fields = set(target_schema(handler_type).get("properties", {}))
        marked = secret_fields(handler_type)
        secret |= marked
        plain |= fields - marked
    return frozenset(secret), frozenset(plain)


@cache
def is_secret_field(name: str) -> bool:
    """Whether a target field holds a secret the API masks in every answer.

    A field some handler declares is secret exactly when its schema marks it
    ``writeOnly`` (so ``token_name`` is not, ``passphrase`` is); any other
    field is secret when its name looks like one.
    """
    secret, plain = _declared_fields()
    if name in secret:
        return True
    return name not in plain and bool(_SECRET_NAME.search(name))


def secret_paths(value: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every secret-named field at any depth of ``value``."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for name, child in value.items():
            path = f"{prefix}.{name}" if prefix else str(name)
            if is_secret_field(str(name)):
                found.append(path)
            else:
                found.extend(secret_paths(child, path))
    return found


def target_schema(handler_type: str) -> dict[str, Any]:
    """The JSON Schema of ``target_properties`` for a handler type."""
    if handler_type not in HANDLER_TYPES:
        raise KeyError(handler_type)
    return load_schema(f"targets/{handler_type}.json")


def target_defaults(handler_type: str) -> dict[str, Any]:
    """The SDK's defaults for a handler's target fields (top level only)."""
    return dict(_defaults(handler_type))


@cache
def _defaults(handler_type: str) -> Mapping[str, Any]:
    properties = target_schema(handler_type).get("properties", {})
    return MappingProxyType(
        {name: spec["default"] for name, spec in properties.items() if "default" in spec}
    )


def address_fields(handler_type: str) -> tuple[str, ...]:
    return tuple(target_schema(handler_type).get("x-exportctl-address", ()))


def unique_within(handler_type: str) -> str | None:
    """``"dataview"`` or ``"project"`` where an address may be used once, else None."""
    scope = target_schema(handler_type).get("x-exportctl-unique-within")
    return str(scope) if scope else None


def default_trigger_type(handler_type: str) -> str:
    return str(target_schema(handler_type).get("x-exportctl-default-trigger-type", "none"))


def address_of(handler_type: str, target_properties: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The destination an export writes to, or None when it names none.

    Values are compared case-sensitively; lists (e.g. email recipients) are
    compared as sorted tuples so their order does not matter. A field left out
    means its default (a server may omit ``schema: public``), so a manifest
    and a live export naming the same place match either way.
    """
    fields = address_fields(handler_type)
    if not fields:
        return None
    defaults = _defaults(handler_type)
    values: list[Any] = [handler_type]
    for name in fields:
        value = target_properties.get(name, defaults.get(name))
        if isinstance(value, list | tuple):
            value = tuple(sorted(map(str, value)))
        values.append(value)
    if all(v is None for v in values[1:]):
        return None
    return tuple(values)
