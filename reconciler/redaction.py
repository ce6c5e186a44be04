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

A server may echo the request's headers too (a proxy's or a debug backend's
400 page), so the API credentials each client sends are scrubbed as well:
``hide_headers`` is told a session's credential headers (an ``Authorization:
Basic`` value also in its base64 and decoded forms), ``hide`` any other
credential (a login form's password, a session cookie). They stay hidden for
the rest of the process, whatever manifest is watched.

Limitations: manifest values shorter than ``MIN_LENGTH`` are not scrubbed
(replacing "1" everywhere would wreck every message), nor credentials
shorter than ``MIN_CREDENTIAL_LENGTH`` (the sandbox's own ``sandbox`` would
turn every mention of the sandbox into ``***``; a real API key is far
longer); such a secret is weak anyway.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # errors imports this module; the model needs nothing of it at run time
    from reconciler.model import DesiredState

__all__ = [
    "MIN_CREDENTIAL_LENGTH",
    "MIN_LENGTH",
    "REDACTED",
    "echoed_forms",
    "forget_credentials",
    "hide",
    "hide_headers",
    "scrub",
    "watch",
]

MIN_LENGTH = 4
MIN_CREDENTIAL_LENGTH = 8
REDACTED = "***"

_sources: list[Callable[[], Iterable[str]]] = []
_credentials: set[str] = set()
_known: list[str] | None = None  # longest first, once collected

# Headers that describe a request rather than authenticate it.
_PLAIN_HEADERS = frozenset({"accept", "content-type", "user-agent"})


def watch(desired: DesiredState) -> None:
    """Scrub the secrets of ``desired`` from server text from now on (instead of any before)."""
    global _known
    _sources[:] = [lambda: _secrets_of(desired)]
    _known = None


def echoed_forms(secret: str) -> tuple[str, ...]:
    """A secret as a server may echo it: as sent, inside a JSON string (escaped, ``/``
    too as some encoders do), or in a form or URL (percent-encoded)."""
    escaped = json.dumps(secret)[1:-1]
    return tuple(
        dict.fromkeys(
            (
                secret,
                escaped,
                json.dumps(secret, ensure_ascii=False)[1:-1],
                escaped.replace("/", "\\/"),
                urllib.parse.quote(secret, safe=""),
                urllib.parse.quote_plus(secret),
            )
        )
    )


def hide(credentials: Iterable[str]) -> None:
    """Scrub these credentials from server text for the rest of the process."""
    global _known
    new = {
        form
        for credential in credentials
        if len(credential) >= MIN_CREDENTIAL_LENGTH
        for form in echoed_forms(credential)
    } - _credentials
    if new:
        _credentials.update(new)
        _known = None


def forget_credentials() -> None:
    """Stop scrubbing the credentials ``hide`` was told (for a process that runs commands
    one after another, as tests do: each command hides its own)."""
    global _known
    _credentials.clear()
    _known = None


def hide_headers(headers: Mapping[str, str]) -> None:
    """Scrub the credentials a session sends in ``headers`` (all but the plain ones)."""
    hide(
        form
        for name, value in headers.items()
        if name.lower() not in _PLAIN_HEADERS
        for form in _header_forms(value)
    )


def _header_forms(value: str) -> Iterator[str]:
    """A header value, and for Basic credentials the token, ``user:password`` and the password."""
    yield value
    scheme, _, token = value.partition(" ")
    if scheme.lower() not in ("basic", "bearer") or not token:
        return
    yield token
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return
        yield decoded
        yield decoded.partition(":")[2]


def scrub(text: str) -> str:
    """``text`` with every watched secret value replaced by ``REDACTED``."""
    global _known
    if not text or not (_sources or _credentials):
        return text
    if _known is None:
        values = {
            form
            for source in _sources
            for value in source()
            if len(value) >= MIN_LENGTH
            for form in echoed_forms(value)
        }
        _known = sorted(values | _credentials, key=len, reverse=True)
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
