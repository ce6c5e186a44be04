"""Secret values kept out of anything a server says back to us.

A server may echo a request in its error answer ("invalid password 'hunter2'
for user ..."), and that text ends up in an error message, a failed change's
line, a PR comment. The planner redacts secrets in what *it* renders; this
module covers what *servers* write. ``watch`` is told the desired state once
its providers are opened; every ``ExportctlError`` message (and an API
error's server detail) then passes through ``scrub``, which replaces each
secret value the manifest gives by ``***``.

The values are collected on the first ``scrub`` that has text to scrub, not
when watching starts: errors are rare, and a 10,000-export plan should not
normalize every resource twice to prepare for one.

Limitation: values shorter than ``MIN_LENGTH`` are not scrubbed (replacing
"1" everywhere would wreck every message); such a secret is weak anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # errors imports this module; the model needs nothing of it at run time
    from reconciler.model import DesiredState

__all__ = ["MIN_LENGTH", "REDACTED", "scrub", "watch"]

MIN_LENGTH = 4
REDACTED = "***"

_sources: list[Callable[[], Iterable[str]]] = []
_known: list[str] | None = None  # longest first, once collected


def watch(desired: DesiredState) -> None:
    """Scrub the secrets of ``desired`` from server text from now on (instead of any before)."""
    global _known
    _sources[:] = [lambda: _secrets_of(desired)]
    _known = None


def scrub(text: str) -> str:
    """``text`` with every watched secret value replaced by ``REDACTED``."""
    global _known
    if not text or not _sources:
        return text
    if _known is None:
        values = {v for source in _sources for v in source() if len(v) >= MIN_LENGTH}
        _known = sorted(values, key=len, reverse=True)
    for value in _known:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def _secrets_of(desired: DesiredState) -> Iterator[str]:
    for scope_spec in desired.scopes:
        kind = scope_spec.kind
        if kind is not None:
            for resource in scope_spec.resources:
                for _, value in kind.normalize_desired(resource).secrets:
                    yield from _texts(value)
        for snapshot in scope_spec.snapshots:
            yield from _texts(snapshot.write_only)


def _texts(value: Any) -> Iterator[str]:
    """Every string in a secret value, and the value itself as JSON when it is not one."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for child in value.values():
            yield from _texts(child)
    elif isinstance(value, list | tuple):
        for child in value:
            yield from _texts(child)
    elif value is not None and not isinstance(value, bool):
        yield json.dumps(value)
