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

import difflib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from reconciler.fastcheck import Check, compile_schema
from reconciler.manifest import envsubst
from reconciler.manifest.paths import Path

if TYPE_CHECKING:
    import jsonschema  # type: ignore[import-untyped]

__all__ = [
    "SECRET_NAME",
    "SchemaChecker",
    "SchemaProblem",
    "check",
    "did_you_mean",
    "edit_distance",
    "secret_named",
]

# Names of fields that hold secrets on every platform exportctl knows; a
# provider may hide more (``SchemaChecker.secret_at``).
SECRET_NAME = re.compile(
    r"password|passwd|secret|token|credential|private_?key|api_?key|access_?key"
    r"|account_?key|sas_?key|passphrase|^key$",
    re.IGNORECASE,
)


def secret_named(path: Path) -> bool:
    """The default rule: a field whose own name says it holds a secret."""
    name = path[-1] if path else None
    return isinstance(name, str) and bool(SECRET_NAME.search(name))


@dataclass(frozen=True)
class SchemaProblem:
    """One problem at ``path``; ``at_key`` points at the key instead of the value."""

    path: Path
    message: str
    at_key: bool = False


@dataclass(frozen=True)
class SchemaChecker:
    """A schema compiled twice: a fast yes/no check, and jsonschema for the errors.

    ``secret_at`` says which paths hold secrets, whose values a message never
    shows (only their kind: "a string").

    Trick (start-up): jsonschema (with its format checkers and referencing)
    takes ~0.1 s to import, and a valid manifest never needs it: the
    validator is built on the first invalid value only.
    """

    is_valid: Check
    schema: dict[str, Any] = field(repr=False, compare=False)
    secret_at: Callable[[Path], bool] = secret_named

    @classmethod
    def of(
        cls, schema: dict[str, Any], secret_at: Callable[[Path], bool] = secret_named
    ) -> SchemaChecker:
        return cls(compile_schema(schema), schema, secret_at)

    @cached_property
    def validator(self) -> Any:
        """jsonschema's validator of the schema, for the errors of an invalid value."""
        import jsonschema  # see the class docstring

        return jsonschema.Draft202012Validator(self.schema)


def check(checker: SchemaChecker, instance: Any) -> list[SchemaProblem]:
    """Every problem of ``instance``, reworded, without repeats."""
    if checker.is_valid(instance):
        return []
    problems: list[SchemaProblem] = []
    show = _Shower(checker.secret_at)
    for error in checker.validator.iter_errors(instance):
        problems.extend(_reword(error, show))
    return list(dict.fromkeys(problems))


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelt ``word``, if one is close enough.

    Close enough is difflib's similarity of at least 0.6. Among the close
    choices the fewest edits win, a swap of two adjacent letters counting as
    one (``edit_distance``): difflib alone scores ``us-west-1`` and
    ``us-east-1`` the same for ``us-esat-1`` and breaks the tie the wrong
    way, yet a swap is the commonest typo. Equal distances keep difflib's
    order. A word that is close to nothing but differs from a choice only in
    case gets that choice; otherwise ``None``.
    """
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=max(len(options), 1), cutoff=0.6)
    if close:
        return min(close, key=lambda choice: edit_distance(word, choice))
    folded = word.lower()
    return next((choice for choice in options if choice.lower() == folded), None)


def edit_distance(a: str, b: str) -> int:
    """The optimal string alignment distance between ``a`` and ``b``.

    Insertions, deletions, substitutions and swaps of two adjacent characters
    each count as one edit; no substring is edited twice (Damerau's
    restricted form, which is all a typo needs).
    """
    before: list[int] = []  # the row two back, for swaps
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, start=1):
        current = [i]
        for j, right in enumerate(b, start=1):
            cost = 0 if left == right else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and left == b[j - 2] and a[i - 2] == right:
                best = min(best, before[j - 2] + 1)
            current.append(best)
        before, previous = previous, current
    return previous[-1]


def _reword(error: jsonschema.ValidationError, show: _Shower) -> list[SchemaProblem]:
    path: Path = tuple(error.absolute_path)
    handler = _REWORDERS.get(str(error.validator))
    if handler is None:
        return [SchemaProblem(path, str(error.message))]
    return handler(error, path, show)


def _unknown_fields(
    error: jsonschema.ValidationError, path: Path, show: _Shower
) -> list[SchemaProblem]:
    known = list(error.schema.get("properties", {}))
    extras = [k for k in error.instance if k not in known]
    return [SchemaProblem((*path, k), _unknown_message(str(k), known), True) for k in extras]


def _unknown_message(name: str, known: Sequence[str]) -> str:
    guess = did_you_mean(name, known)
    if guess:
        return f"unknown field '{name}'; did you mean '{guess}'?"
    return f"unknown field '{name}'; expected one of: {', '.join(known)}"


def _required(error: jsonschema.ValidationError, path: Path, show: _Shower) -> list[SchemaProblem]:
    missing = [name for name in error.validator_value if name not in error.instance]
    return [SchemaProblem(path, f"missing required field '{name}'") for name in missing]


def _dependent(error: jsonschema.ValidationError, path: Path, show: _Shower) -> list[SchemaProblem]:
    problems: list[SchemaProblem] = []
    for name, needed in error.validator_value.items():
        if name in error.instance:
            problems.extend(
                SchemaProblem((*path, name), f"'{name}' needs '{other}' to be set too", True)
                for other in needed
                if other not in error.instance
            )
    return problems


def _type(error: jsonschema.ValidationError, path: Path, show: _Shower) -> list[SchemaProblem]:
    wanted = error.validator_value
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    expected = " or ".join(_TYPE_WORDS.get(n, n) for n in names)
    got = show(error.instance, path)
    message = f"expected {expected}, got {got}"
    if isinstance(error.instance, str) and envsubst.names_variable(error.instance):
        message += _env_reference_hint(names)
    return [SchemaProblem(path, message)]


def _env_reference_hint(names: Sequence[str]) -> str:
    """Why an ``${env:...}`` reference cannot fill a field that takes no string.

    The schema is checked before references are resolved, and a resolved
    reference is text anyway (``envsubst``), so ``port: ${env:PGPORT}`` can
    never become the integer the field needs; only writing the value does.
    """
    literals = {_LITERAL_WORDS.get(name, "the value") for name in names}
    literal = literals.pop() if len(literals) == 1 else "the value"
    return (
        f"; environment references always produce text, so write {literal} itself in the manifest"
    )


def _enum(error: jsonschema.ValidationError, path: Path, show: _Shower) -> list[SchemaProblem]:
    choices = [str(c) for c in error.validator_value]
    message = f"expected one of {', '.join(choices)}; got {show(error.instance, path)}"
    if isinstance(error.instance, str):
        guess = did_you_mean(error.instance, choices)
        if guess:
            message = f"{show(error.instance, path)} is not allowed; did you mean '{guess}'?"
    return [SchemaProblem(path, message)]


def _const(error: jsonschema.ValidationError, path: Path, show: _Shower) -> list[SchemaProblem]:
    if path == ("version",):
        message = (
            f"unsupported version {show(error.instance, path)}; this exportctl reads version 1"
        )
    else:
        message = f"must be {json.dumps(error.validator_value)}, got {show(error.instance, path)}"
    return [SchemaProblem(path, message)]


def _bound(error: jsonschema.ValidationError, path: Path, show: _Shower) -> list[SchemaProblem]:
    word = "at least" if error.validator == "minimum" else "at most"
    got = show(error.instance, path)
    return [SchemaProblem(path, f"must be {word} {error.validator_value}, got {got}")]


def _length(error: jsonschema.ValidationError, path: Path, show: _Shower) -> list[SchemaProblem]:
    limit = int(error.validator_value)
    unit = "characters" if error.validator in ("minLength", "maxLength") else "items"
    if error.validator.startswith("min"):
        message = "must not be empty" if limit == 1 else f"must have at least {limit} {unit}"
    else:
        message = f"must have at most {limit} {unit}"
    return [SchemaProblem(path, message)]


def _unique(error: jsonschema.ValidationError, path: Path, show: _Shower) -> list[SchemaProblem]:
    return [SchemaProblem(path, "must not list the same item twice")]


def _pattern(error: jsonschema.ValidationError, path: Path, show: _Shower) -> list[SchemaProblem]:
    hint = error.schema.get("x-exportctl-hint") or f"must match {error.validator_value}"
    return [SchemaProblem(path, f"{show(error.instance, path)} is not valid: {hint}")]


_Reworder = Callable[["jsonschema.ValidationError", Path, "_Shower"], list[SchemaProblem]]
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

# What to write instead of an ${env:...} reference, for a field of that type.
_LITERAL_WORDS = {"integer": "the number", "number": "the number", "boolean": "true or false"}


class _Shower:
    """Renders a wrong value for a message, hiding it where ``secret_at`` says."""

    def __init__(self, secret_at: Callable[[Path], bool]) -> None:
        self._secret_at = secret_at

    def __call__(self, value: Any, path: Path) -> str:
        return _show(value, self._secret_at(path))


def _show(value: Any, secret: bool) -> str:
    """A short rendering of a wrong value; a secret shows only its kind."""
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
