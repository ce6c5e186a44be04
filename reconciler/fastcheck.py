"""A fast yes/no answer to "does this value satisfy the schema?".

jsonschema spends most of a large document's check on bookkeeping for error
reporting that a valid document never needs. This module compiles the small
subset of JSON Schema that exportctl's schemas use (the manifest, the handler
targets, plans and plan files) into nested Python closures that only answer
yes or no; callers ask jsonschema for the errors only when the answer is no.
Tests check both agree.

A schema using a keyword outside the subset compiles to "no", so jsonschema
always has the last word: this can make checking slower, never more lenient.
Where a rule is cheaper to state strictly (``1.0`` is not an integer here,
``uniqueItems`` over non-strings), the answer is "no" for jsonschema to decide.

Trick (speed): the closures use ``all(map(...))`` or plain ``for`` loops that
return early rather than ``all(...)`` over generators, which cost a generator
object and a frame per call; a schema with one rule compiles to that rule
itself, without a wrapper; each ``$ref`` target is compiled once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Check", "compile_schema", "first_problem"]

Check = Callable[[Any], bool]
_Builder = Callable[[Any, dict[str, Any], "_Context"], Check]

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
    "x-exportctl-unique-within", "x-exportctl-replaced", "writeOnly",
}  # fmt: skip


def _never(value: Any) -> bool:
    return False


def _always(value: Any) -> bool:
    return True


class _Context:
    """The root schema (for local ``$ref``) and the checks compiled for each target."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, list[Check]] = {}


def compile_schema(schema: dict[str, Any]) -> Check:
    """A function telling whether a value is valid against ``schema``."""
    return _compile(schema, _Context(schema))


def _compile(schema: dict[str, Any], context: _Context) -> Check:
    checks: list[Check] = []
    for keyword, argument in schema.items():
        if keyword in _ANNOTATIONS or keyword in ("then", "else"):
            continue
        build = _KEYWORDS.get(keyword)
        if build is None:
            return _never  # unknown keyword: let jsonschema decide
        checks.append(build(argument, schema, context))
    return _all(checks)


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    tests = tuple(checks)

    def check(value: Any) -> bool:
        for test in tests:  # noqa: SIM110 (see "Trick" above)
            if not test(value):
                return False
        return True

    return check


def _type(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    names = [argument] if isinstance(argument, str) else list(argument)
    tests = tuple(_TYPES[name] for name in names)
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(test(v) for test in tests)


def _properties(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    compiled = {name: _compile(sub, context) for name, sub in argument.items()}

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for name, item in value.items():
            test = compiled.get(name)
            if test is not None and not test(item):
                return False
        return True

    return check


def _additional(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    known = frozenset(schema.get("properties", {}))
    if argument is False:
        return lambda v: not isinstance(v, dict) or known.issuperset(v)
    test = _compile(argument, context)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for name, item in value.items():  # noqa: SIM110 (see "Trick" above)
            if name not in known and not test(item):
                return False
        return True

    return check


def _property_names(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    test = _compile(argument, context)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return all(map(test, value))

    return check


def _required(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    names = frozenset(argument)
    return lambda v: not isinstance(v, dict) or names.issubset(v)


def _dependent(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    pairs = [(name, frozenset(needed)) for name, needed in argument.items()]

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for name, needed in pairs:  # noqa: SIM110 (see "Trick" above)
            if name in value and not needed.issubset(value):
                return False
        return True

    return check


def _items(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    test = _compile(argument, context)

    def check(value: Any) -> bool:
        if not isinstance(value, list):
            return True
        return all(map(test, value))

    return check


def _enum(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    choices = list(argument)
    if any(isinstance(choice, dict | list) for choice in choices):
        return lambda v: any(_same(v, choice) for choice in choices)
    # Trick (speed): scalar choices become a set of (type, value) pairs, which
    # keeps _same's strictness (True is not 1) at the cost of one lookup.
    typed = frozenset((type(choice), choice) for choice in choices)

    def check(value: Any) -> bool:
        if isinstance(value, dict | list):
            return False
        return (type(value), value) in typed

    return check


def _const(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    return lambda v: _same(v, argument)


def _same(value: Any, expected: Any) -> bool:
    """JSON equality, strictly: ``True`` is not ``1``, nor ``1.0`` ``1``."""
    return type(value) is type(expected) and value == expected


def _bound(keyword: str) -> _Builder:
    def build(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
        def check(v: Any) -> bool:
            if not _TYPES["number"](v):
                return True
            return bool(v >= argument) if keyword == "minimum" else bool(v <= argument)

        return check

    return build


def _length(keyword: str, kind: type) -> _Builder:
    def build(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
        def check(v: Any) -> bool:
            if not isinstance(v, kind):
                return True
            size = len(v) if isinstance(v, str | list) else 0
            return bool(size >= argument) if keyword.startswith("min") else bool(size <= argument)

        return check

    return build


def _unique(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    def check(v: Any) -> bool:
        if not argument or not isinstance(v, list):
            return True
        if all(isinstance(item, str) for item in v):
            return len(set(v)) == len(v)
        return False  # mixed items: let jsonschema compare them

    return check


def _pattern(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    search = re.compile(argument).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _ref(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    """A local ``#/...`` reference; any other (another document) answers "no"."""
    if not argument.startswith("#/"):
        return _never
    target: Any = context.root
    for part in argument[2:].split("/"):
        target = target[part]
    # One compiled check per target, compiled on first use: schemas may be recursive.
    resolved = context.refs.setdefault(argument, [])

    def check(v: Any) -> bool:
        if not resolved:
            resolved.append(_compile(target, context))
        return resolved[0](v)

    return check


def _all_of(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    return _all([_compile(sub, context) for sub in argument])


def _any_of(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    tests = tuple(_compile(sub, context) for sub in argument)
    return lambda v: any(test(v) for test in tests)


def _if(argument: Any, schema: dict[str, Any], context: _Context) -> Check:
    condition = _compile(argument, context)
    then = _compile(schema.get("then", {}), context)
    otherwise = _compile(schema.get("else", {}), context)
    return lambda v: then(v) if condition(v) else otherwise(v)


_KEYWORDS: dict[str, _Builder] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "propertyNames": _property_names,
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
    "anyOf": _any_of,
    "if": _if,
}


def first_problem(check: Check, validator: Callable[[], Any], value: Any) -> str | None:
    """``None`` when ``value`` is valid, else jsonschema's best error as ``at PATH: message``.

    The fast ``check`` answers the common, valid case; only an invalid value
    pays for jsonschema's error reporting (seconds for a 10,000-change plan),
    and for importing jsonschema at all (~0.1 s): ``validator`` builds the
    jsonschema validator on demand.
    """
    if check(value):
        return None
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

    error = best_match(validator().iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"at {where}: {error.message}"
