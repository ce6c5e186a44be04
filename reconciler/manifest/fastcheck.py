"""A fast yes/no answer to "does this value satisfy the schema?".

jsonschema spends most of a large manifest's load time on bookkeeping for
error reporting that a valid manifest never needs. This module compiles the
small subset of JSON Schema that exportctl's schemas use into nested Python
closures that only answer yes or no; the loader asks jsonschema for the
(reworded) errors only when the answer is no. A test checks both agree.

A schema using a keyword outside the subset compiles to "no", so jsonschema
always has the last word: this can make loading slower, never more lenient.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Check", "compile_schema"]

Check = Callable[[Any], bool]

_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
# Keywords that never affect validity.
_ANNOTATIONS = {
    "$schema", "$id", "$defs", "title", "description", "default", "examples",
    "x-exportctl-address", "x-exportctl-default-trigger-type", "x-exportctl-hint",
}  # fmt: skip


def compile_schema(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Check:
    """A function telling whether a value is valid against ``schema``."""
    root = schema if root is None else root
    checks: list[Check] = []
    for keyword, argument in schema.items():
        if keyword in _ANNOTATIONS or keyword in ("then", "else"):
            continue
        build = _KEYWORDS.get(keyword)
        if build is None:
            return lambda value: False  # unknown keyword: let jsonschema decide
        checks.append(build(argument, schema, root))
    return lambda value: all(check(value) for check in checks)


def _type(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    names = [argument] if isinstance(argument, str) else list(argument)
    tests = [_TYPES[name] for name in names]
    return lambda v: any(test(v) for test in tests)


def _properties(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    compiled = {name: compile_schema(sub, root) for name, sub in argument.items()}

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return all(test(value[name]) for name, test in compiled.items() if name in value)

    return check


def _additional(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    known = set(schema.get("properties", {}))
    if argument is False:
        return lambda v: not isinstance(v, dict) or known.issuperset(v)
    test = compile_schema(argument, root)
    return lambda v: (
        not isinstance(v, dict) or all(test(item) for name, item in v.items() if name not in known)
    )


def _required(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    names = list(argument)
    return lambda v: not isinstance(v, dict) or all(name in v for name in names)


def _dependent(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    pairs = list(argument.items())
    return lambda v: (
        not isinstance(v, dict)
        or all(all(other in v for other in needed) for name, needed in pairs if name in v)
    )


def _items(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    test = compile_schema(argument, root)
    return lambda v: not isinstance(v, list) or all(test(item) for item in v)


def _enum(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    choices = list(argument)
    return lambda v: any(_same(v, choice) for choice in choices)


def _const(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    return lambda v: _same(v, argument)


def _same(value: Any, expected: Any) -> bool:
    """JSON equality: ``True`` is not ``1``."""
    return type(value) is type(expected) and value == expected


def _bound(keyword: str) -> Callable[[Any, dict[str, Any], dict[str, Any]], Check]:
    def build(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        def check(v: Any) -> bool:
            if not _TYPES["number"](v):
                return True
            return bool(v >= argument) if keyword == "minimum" else bool(v <= argument)

        return check

    return build


def _length(keyword: str, kind: type) -> Callable[[Any, dict[str, Any], dict[str, Any]], Check]:
    def build(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        def check(v: Any) -> bool:
            if not isinstance(v, kind):
                return True
            size = len(v) if isinstance(v, str | list) else 0
            return bool(size >= argument) if keyword.startswith("min") else bool(size <= argument)

        return check

    return build


def _unique(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    def check(v: Any) -> bool:
        if not argument or not isinstance(v, list):
            return True
        if all(isinstance(item, str) for item in v):
            return len(set(v)) == len(v)
        return False  # mixed items: let jsonschema compare them

    return check


def _pattern(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    regex = re.compile(argument)
    return lambda v: not isinstance(v, str) or regex.search(v) is not None


def _ref(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    if not argument.startswith("#/"):
        return lambda v: False
    target: Any = root
    for part in argument[2:].split("/"):
        target = target[part]
    resolved: list[Check] = []

    def check(v: Any) -> bool:  # compiled on first use: schemas may be recursive
        if not resolved:
            resolved.append(compile_schema(target, root))
        return resolved[0](v)

    return check


def _all_of(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    tests = [compile_schema(sub, root) for sub in argument]
    return lambda v: all(test(v) for test in tests)


def _if(argument: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
    condition = compile_schema(argument, root)
    then = compile_schema(schema.get("then", {}), root)
    otherwise = compile_schema(schema.get("else", {}), root)
    return lambda v: then(v) if condition(v) else otherwise(v)


_KEYWORDS: dict[str, Callable[[Any, dict[str, Any], dict[str, Any]], Check]] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": _required,
    "dependentRequired": _dependent,
    "items": _items,
    "enum": _enum,
    "const": _const,
    "minimum": _bound("minimum"),
    "maximum": _bound("maximum"),
    "minLength": _length("minLength", str),
    "maxLength": _length("maxLength", str),
    "minItems": _length("minItems", list),
    "maxItems": _length("maxItems", list),
    "uniqueItems": _unique,
    "pattern": _pattern,
    "$ref": _ref,
    "allOf": _all_of,
    "if": _if,
}
