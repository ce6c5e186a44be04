"""``${env:NAME}`` references in manifest strings.

Syntax (documented in the manifest schema and README):

- ``${env:NAME}``: the value of environment variable NAME; unset is an error,
  and so is an empty NAME when the reference is the whole value (CI systems
  pass a secret that was never defined as an empty string: GitHub Actions'
  ``${{ secrets.X }}``);
- ``${env:NAME:-fallback}``: the fallback text when NAME is unset (as in a
  POSIX shell, but an *empty* NAME counts as set: ``${env:NAME:-}`` is how
  a value may be empty on purpose);
- ``$${env:NAME}``: the literal text ``${env:NAME}``.

Errors name the variable, never a value. Resolved values are always strings.
# Limitation: a fallback cannot contain '}'.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "REFERENCE_START",
    "EnvProblem",
    "EveryVariableSet",
    "has_reference",
    "names_variable",
    "resolve",
]

REFERENCE_START = "${env:"  # in every text this module acts on

_REFERENCE = re.compile(r"\$\$\{env:|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{env:")

_UNESCAPED = re.compile(r"(?<!\$)\$\{env:")


@dataclass(frozen=True)
class EnvProblem:
    """Why a string could not be resolved; the message names no value."""

    message: str


class EveryVariableSet(Mapping[str, str]):
    """An environment in which every variable counts as set.

    Offline checks (pre-commit, a pull request's lint job) run where secrets are
    deliberately absent; they still check the references' syntax. Real values
    are used where they exist, a placeholder elsewhere.
    """

    PLACEHOLDER = "placeholder-for-validation"

    def __init__(self, real: Mapping[str, str]) -> None:
        self._real = real

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __getitem__(self, name: str) -> str:
        return self._real.get(name, self.PLACEHOLDER)

    def __iter__(self) -> Iterator[str]:
        return iter(self._real)

    def __len__(self) -> int:
        return len(self._real)


def has_reference(text: str) -> bool:
    """Whether ``text`` holds anything this module would act on."""
    return REFERENCE_START in text


def names_variable(text: str) -> bool:
    """Whether ``text`` reads the environment (an escaped ``$${env:`` does not)."""
    return _UNESCAPED.search(text) is not None


def resolve(text: str, environ: Mapping[str, str]) -> str | list[EnvProblem]:
    """``text`` with every reference replaced, or every problem found in it."""
    problems: list[EnvProblem] = []

    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$${env:":
            return "${env:"
        name, fallback = match.group(1), match.group(2)
        if name is None:
            problems.append(EnvProblem(_malformed(text, match.start())))
            return whole
        if name in environ:
            value = environ[name]
            if not value and fallback is None and whole == text:
                problems.append(EnvProblem(_empty(name)))
            return value
        if fallback is not None:
            return fallback
        problems.append(
            EnvProblem(
                f"environment variable {name} is not set; set it (a value that is not "
                f"a secret may also have a fallback: ${{env:{name}:-...}})"
            )
        )
        return whole

    result = _REFERENCE.sub(replace, text)
    return problems or result


def _empty(name: str) -> str:
    return (
        f"environment variable {name} is set but empty (a CI secret that does not exist "
        f"is passed as an empty string); give it a value (where an empty value is meant "
        f"and the field takes one, write ${{env:{name}:-}})"
    )


def _malformed(text: str, start: int) -> str:
    close = text.find("}", start)
    shown = text[start : close + 1] if 0 <= close < start + 40 else text[start : start + 8] + "..."
    return (
        f"malformed reference {shown!r}: write ${{env:NAME}} or ${{env:NAME:-fallback}}, "
        "NAME made of letters, digits and '_'"
    )
