"""The manifest's ``mailgun:`` section: its JSON Schema, and its entries as snapshots.

The schema (``schemas/mailgun/snapshots.schema.json``) checks the shape, for
editors and for located diagnostics. What a schema cannot say is checked
here, each problem reported where it was written: a ``max_age`` over 24 hours
(its string form), a ``url`` that names no list or names a scheme or host (the
host is the account's, from the environment), and uniqueness across every
file, of keys and of URLs. Two snapshots of one URL would compete for the
single export Mailgun runs per URL, and would always agree anyway, since
identity is the normalized URL.

Exports are account-wide, so the whole section is one scope: the Mailgun
account at the API host the environment names (``MAILGUN_BASE_URL`` or
``MAILGUN_REGION``), read when the manifest loads.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from typing import Any

import httpx

from reconciler._resources import load_schema
from reconciler.errors import ConfigError
from reconciler.manifest.schema_check import SchemaChecker, check
from reconciler.manifest.sections import Entry, LoadContext
from reconciler.manifest.yaml_source import YamlDocument
from reconciler.model import Scope, ScopeSpec, SnapshotSpec, freeze
from reconciler.providers.base import SchemaParts
from reconciler.providers.mailgun.client import base_url_from
from reconciler.providers.mailgun.kinds import (
    SNAPSHOT_TYPE,
    MaxAgeError,
    normalize_url,
    parse_max_age,
    request_of,
)

__all__ = [
    "PROVIDER",
    "SCHEMA_PATH",
    "SCOPE_KIND",
    "SECTION",
    "MailgunLoader",
    "account_scope",
    "schema_parts",
    "section_schema",
]

PROVIDER = "mailgun"
SECTION = "mailgun"
SCOPE_KIND = "exports"
SCHEMA_PATH = "mailgun/snapshots.schema.json"
# What the account is called when the host settings cannot be read: opening the
# provider then fails with the reason, so this name is only ever seen by validate.
_UNKNOWN_HOST = "unknown-host"


def section_schema() -> dict[str, Any]:
    """The section's JSON Schema (draft 2020-12), as editors read it."""
    return load_schema(SCHEMA_PATH)


@cache
def _checker() -> SchemaChecker:
    return SchemaChecker.of(section_schema())


def schema_parts() -> SchemaParts:
    """The section for ``exportctl schema``: its definitions moved beside Mammoth's."""
    section = copy.deepcopy(section_schema())
    defs = section.pop("$defs")
    for name in ("$schema", "$id"):
        section.pop(name, None)
    return SchemaParts({SECTION: section}, defs)


def account_scope(environ: Mapping[str, str]) -> Scope:
    """The one scope of Mailgun exports: the account at the API host ``environ`` names."""
    try:
        host = httpx.URL(base_url_from(environ)).netloc.decode("ascii")
    except ConfigError:
        host = _UNKNOWN_HOST
    return Scope(
        PROVIDER,
        SCOPE_KIND,
        host,
        freeze({"host": host}),
        noun="Mailgun account",
        resource_noun="export",
    )


def _said_by_max_age(section: Any, path: tuple[Any, ...]) -> bool:
    """Whether a schema problem is about a text or integer ``max_age``, which
    ``parse_max_age`` words better: it says why 25h is refused, not which
    branch of the schema failed."""
    if len(path) != 3 or path[0] != "snapshots" or path[2] != "max_age":
        return False
    value = section["snapshots"][path[1]]["max_age"]
    return isinstance(value, str | int) and not isinstance(value, bool)


class MailgunLoader:
    """The ``SectionLoader`` of ``mailgun:``, for one load of all the files."""

    def __init__(self) -> None:
        self.snapshots: list[SnapshotSpec] = []
        self.keys: dict[str, Entry] = {}
        self.urls: dict[str, Entry] = {}
        self.scope: Scope | None = None

    def scopes(self) -> tuple[ScopeSpec, ...]:
        if self.scope is None or not self.snapshots:
            return ()
        return (ScopeSpec(self.scope, snapshots=tuple(self.snapshots)),)

    def load(self, doc: YamlDocument, root: Mapping[str, Any], context: LoadContext) -> None:
        if self.scope is None:
            self.scope = account_scope(context.environ)
        section = root.get(SECTION)
        for problem in check(_checker(), section):
            if not _said_by_max_age(section, problem.path):
                context.report(doc, (SECTION, *problem.path), problem.message, key=problem.at_key)
        entries = section.get("snapshots") if isinstance(section, dict) else None
        for index, value in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(value, dict):
                snapshot = self._snapshot(Entry(doc, (SECTION, "snapshots", index), value), context)
                if snapshot is not None:
                    self.snapshots.append(snapshot)

    def _snapshot(self, entry: Entry, context: LoadContext) -> SnapshotSpec | None:
        """The entry as a ``SnapshotSpec``, or ``None`` after reporting its problems."""
        resolved, env_refs = context.resolve_env(entry)
        key, url, max_age = resolved.get("key"), resolved.get("url"), resolved.get("max_age")
        self._unique(entry, "key", key, self.keys, context, "key")
        identity = self._identity(entry, url, context)
        if identity is not None:
            self._unique(entry, "url", identity, self.urls, context, "URL")
        max_age_s = self._max_age(entry, max_age, context)
        if context.has_problems or identity is None or max_age_s is None:
            return None  # the model is only ever built from a fully valid manifest
        download = resolved.get("download")
        return SnapshotSpec(
            key=str(key),
            type=SNAPSHOT_TYPE,
            request=request_of(identity),
            max_age_s=max_age_s,
            download=None if download is None else str(download),
            env_refs=freeze(env_refs),
            location=entry.location,
        )

    def _identity(self, entry: Entry, url: Any, context: LoadContext) -> str | None:
        if not isinstance(url, str) or not url.strip():
            return None  # the schema said what is wrong
        try:
            return normalize_url(url)
        except ValueError as error:
            context.report_at(entry, ("url",), str(error))
            return None

    def _max_age(self, entry: Entry, value: Any, context: LoadContext) -> int | None:
        if not isinstance(value, str | int) or isinstance(value, bool):
            return None  # the schema said what is wrong
        try:
            return parse_max_age(value)
        except MaxAgeError as error:
            context.report_at(entry, ("max_age",), str(error))
            return None

    def _unique(
        self,
        entry: Entry,
        field: str,
        value: Any,
        seen: dict[str, Entry],
        context: LoadContext,
        noun: str,
    ) -> None:
        """Report a second snapshot of one ``key`` (or normalized URL), at the second."""
        if not isinstance(value, str):
            return
        first = seen.setdefault(value, entry)
        if first is entry:
            return
        where = first.doc.at((*first.base, field))
        other = first.value.get("key")
        if noun == "key":
            message = f"snapshot key '{value}' is already used at {where}; keys must be unique"
        else:
            message = (
                f"'{entry.value.get(field)}' is the same URL ('{value}') as snapshot "
                f"'{other}' at {where}; Mailgun runs one export per URL, so keep one of them"
            )
        context.report_at(entry, (field,), message)
