"""JSON Schema checks, reworded for people.

jsonschema's own messages ("'abc' is not of type 'integer'") read like a stack
trace; here each error becomes a ``SchemaProblem``: the path it concerns,
whether to point at the key or the value, and a sentence that says what is
wrong and, where possible, what would be right. Values of secret-named fields
are never shown.

Validators are compiled once per process: the manifest is checked once per
file (not once per export), and each export's target_properties once against
its handler's cached validator.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from reconciler._resources import load_schema
from reconciler.fastcheck import Check, compile_schema
from reconciler.manifest.paths import Path
from reconciler.providers.mammoth.handlers import is_secret_field, target_schema

__all__ = [
    "SchemaChecker",
    "SchemaProblem",
    "check",
    "did_you_mean",
    "manifest_validator",
    "target_validator",
]


@dataclass(frozen=True)
class SchemaProblem:
    """One problem at ``path``; ``at_key`` points at the key instead of the value."""

    path: Path
    message: str
    at_key: bool = False


@dataclass(frozen=True)
class SchemaChecker:
    """A schema compiled twice: a fast yes/no check, and jsonschema for the errors."""

    is_valid: Check
    validator: Any

    @classmethod
    def of(cls, schema: dict[str, Any]) -> SchemaChecker:
        return cls(compile_schema(schema), jsonschema.Draft202012Validator(schema))


@cache
def manifest_validator() -> SchemaChecker:
    """The manifest schema without its per-handler target checks.

    The loader checks target_properties itself, after merging ``defaults``, so
    that a field given by defaults counts (see ``$defs.targetByHandler``).
    """
    schema = copy.deepcopy(load_schema("manifest.schema.json"))
    schema["$defs"]["targetByHandler"] = {}
    return SchemaChecker.of(schema)


@cache
def target_validator(handler_type: str) -> SchemaChecker:
    return SchemaChecker.of(target_schema(handler_type))


def check(checker: SchemaChecker, instance: Any) -> list[SchemaProblem]:
    """Every problem of ``instance``, reworded, without repeats."""
    if checker.is_valid(instance):
        return []
    problems: list[SchemaProblem] = []
    for error in checker.validator.iter_errors(instance):
        problems.extend(_reword(error))
    return list(dict.fromkeys(problems))


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelt ``word``, if one is close enough."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not matches and word.lower() in {c.lower() for c in choices}:
        return next(c for c in choices if c.lower() == word.lower())
    return matches[0] if matches else None


def _reword(error: jsonschema.ValidationError) -> list[SchemaProblem]:
    path: Path = tuple(error.absolute_path)
    handler = _REWORDERS.get(str(error.validator))
    if handler is None:
        return [SchemaProblem(path, str(error.message))]
    return handler(error, path)


def _unknown_fields(error: jsonschema.ValidationError, path: Path) -> list[SchemaProblem]:
    known = list(error.schema.get("properties", {}))
    extras = [k for k in error.instance if k not in known]
    return [SchemaProblem((*path, k), _unknown_message(str(k), known), True) for k in extras]


def _unknown_message(name: str, known: Sequence[str]) -> str:
    guess = did_you_mean(name, known)
    if guess:
        return f"unknown field '{name}'; did you mean '{guess}'?"
    return f"unknown field '{name}'; expected one of: {', '.join(known)}"


def _required(error: jsonschema.ValidationError, path: Path) -> list[SchemaProblem]:
    missing = [name for name in error.validator_value if name not in error.instance]
    return [SchemaProblem(path, f"missing required field '{name}'") for name in missing]


def _dependent(error: jsonschema.ValidationError, path: Path) -> list[SchemaProblem]:
    problems: list[SchemaProblem] = []
    for name, needed in error.validator_value.items():
        if name in error.instance:
            problems.extend(
                SchemaProblem((*path, name), f"'{name}' needs '{other}' to be set too", True)
                for other in needed
                if other not in error.instance
            )
    return problems


def _type(error: jsonschema.ValidationError, path: Path) -> list[SchemaProblem]:
    wanted = error.validator_value
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    expected = " or ".join(_TYPE_WORDS.get(n, n) for n in names)
    got = _show(error.instance, path)
    return [SchemaProblem(path, f"expected {expected}, got {got}")]


def _enum(error: jsonschema.ValidationError, path: Path) -> list[SchemaProblem]:
    choices = [str(c) for c in error.validator_value]
    message = f"expected one of {', '.join(choices)}; got {_show(error.instance, path)}"
    if isinstance(error.instance, str):
        guess = did_you_mean(error.instance, choices)
        if guess:
            message = f"{_show(error.instance, path)} is not allowed; did you mean '{guess}'?"
    return [SchemaProblem(path, message)]


def _const(error: jsonschema.ValidationError, path: Path) -> list[SchemaProblem]:
    if path == ("version",):
        message = (
            f"unsupported version {_show(error.instance, path)}; this exportctl reads version 1"
        )
    else:
        message = f"must be {json.dumps(error.validator_value)}, got {_show(error.instance, path)}"
    return [SchemaProblem(path, message)]


def _bound(error: jsonschema.ValidationError, path: Path) -> list[SchemaProblem]:
    word = "at least" if error.validator == "minimum" else "at most"
    got = _show(error.instance, path)
    return [SchemaProblem(path, f"must be {word} {error.validator_value}, got {got}")]


def _length(error: jsonschema.ValidationError, path: Path) -> list[SchemaProblem]:
    limit = int(error.validator_value)
    unit = "characters" if error.validator in ("minLength", "maxLength") else "items"
    if error.validator.startswith("min"):
        message = "must not be empty" if limit == 1 else f"must have at least {limit} {unit}"
    else:
        message = f"must have at most {limit} {unit}"
    return [SchemaProblem(path, message)]


def _unique(error: jsonschema.ValidationError, path: Path) -> list[SchemaProblem]:
    return [SchemaProblem(path, "must not list the same item twice")]


def _pattern(error: jsonschema.ValidationError, path: Path) -> list[SchemaProblem]:
    hint = error.schema.get("x-exportctl-hint") or f"must match {error.validator_value}"
    return [SchemaProblem(path, f"{_show(error.instance, path)} is not valid: {hint}")]


_Reworder = Callable[[jsonschema.ValidationError, Path], list[SchemaProblem]]
_REWORDERS: dict[str, _Reworder] = {
    "additionalProperties": _unknown_fields,
    "required": _required,
    "dependentRequired": _dependent,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minimum": _bound,
    "maximum": _bound,
    "minLength": _length,
    "maxLength": _length,
    "minItems": _length,
    "maxItems": _length,
    "uniqueItems": _unique,
    "pattern": _pattern,
}

_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _is_secret(path: Path) -> bool:
    """Secret-named fields inside the free-form mappings (``key`` itself is not one)."""
    inside = any(p in ("target_properties", "additional_properties") for p in path[:-1])
    name = path[-1] if path else None
    return isinstance(name, str) and (inside or path == (name,)) and is_secret_field(name)


def _show(value: Any, path: Path) -> str:
    """A short rendering of a wrong value; secret-named fields show only the kind."""
    secret = _is_secret(path)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean" if secret else str(value).lower()
    if secret:
        return "a string" if isinstance(value, str) else "a number"
    if isinstance(value, str):
        text = json.dumps(value)
        return text if len(text) <= 42 else text[:40] + '..."'
    return str(value)
