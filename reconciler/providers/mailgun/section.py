"""The manifest's ``mailgun:`` section: its JSON Schema, and its entries as ``Snapshot``.

The schema (``schemas/mailgun/snapshots.schema.json``) checks the shape, for
editors and for the manifest loader's located diagnostics. What a schema
cannot say is checked here: a ``max_age`` over 24 hours (its string form),
and uniqueness, of keys and of URLs. Two snapshots of one URL would compete
for the single export Mailgun runs per URL, and would always agree anyway,
since identity is the normalized URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler._resources import load_schema
from reconciler.providers.mailgun.kinds import Snapshot

__all__ = ["SCHEMA_PATH", "SECTION", "parse_section", "section_schema"]

SECTION = "mailgun"
SCHEMA_PATH = "mailgun/snapshots.schema.json"


def section_schema() -> dict[str, Any]:
    """The section's JSON Schema (draft 2020-12)."""
    return load_schema(SCHEMA_PATH)


def parse_section(section: Mapping[str, Any]) -> tuple[Snapshot, ...]:
    """The snapshots of a section that passed ``section_schema``, in manifest order.

    ``ValueError`` lists every problem at once, each naming its entry.
    """
    entries: Sequence[Mapping[str, Any]] = section["snapshots"]
    snapshots: list[Snapshot] = []
    problems: list[str] = []
    keys: dict[str, int] = {}
    urls: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = f"{SECTION}.snapshots[{index}] (key {entry.get('key')!r})"
        try:
            snapshot = Snapshot.from_entry(entry)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if snapshot.key in keys:
            problems.append(
                f"{where}: key {snapshot.key!r} is already used by snapshots[{keys[snapshot.key]}]"
            )
        elif snapshot.identity in urls:
            other = urls[snapshot.identity]
            problems.append(
                f"{where}: {snapshot.url!r} is the same URL as snapshot {other!r} "
                f"({snapshot.identity!r}); Mailgun runs one export per URL, so keep one of them"
            )
        keys.setdefault(snapshot.key, index)
        urls.setdefault(snapshot.identity, snapshot.key)
        snapshots.append(snapshot)
    if problems:
        raise ValueError("\n".join(problems))
    return tuple(snapshots)
