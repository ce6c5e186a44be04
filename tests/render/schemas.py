"""Validators for the published schemas, resolving their references to each other."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]
from referencing import Registry, Resource

from reconciler._resources import load_schema


def validator(name: str) -> Any:
    registry: Registry[Any] = Registry()
    for other in ("plan.schema.json", "plan-file.schema.json", "drift-report.schema.json"):
        schema = load_schema(other)
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    jsonschema.Draft202012Validator.check_schema(load_schema(name))
    return jsonschema.Draft202012Validator(load_schema(name), registry=registry)


def errors(name: str, document: Any) -> list[str]:
    return [error.message for error in validator(name).iter_errors(document)]
