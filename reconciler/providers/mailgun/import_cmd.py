"""``exportctl import mailgun``: a manifest of the exports the account made in the last 24 hours.

Mailgun lists only the exports of the last 24 hours, so that is what can be
imported: one snapshot entry per URL exported (of any status), keyed by its
URL, with ``max_age`` 24h. ``plan`` on the result shows each as fresh (or
waiting) until its export grows older than ``max_age``; tighten it by hand.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import click
import yaml

from reconciler.cli.options import (
    import_connection_options,
    import_out_option,
    write_manifest,
)
from reconciler.model import DesiredState
from reconciler.providers.base import Connection
from reconciler.providers.mailgun.kinds import url_identity
from reconciler.providers.mailgun.provider import FACTORY, MailgunProvider
from reconciler.providers.mailgun.section import SECTION
from reconciler.providers.mailgun.wire import Export

__all__ = ["import_", "render_manifest", "snapshot_key"]

_NOT_A_KEY_CHAR = re.compile(r"[^a-z0-9._-]+")
_KEY_LENGTH = 63


def snapshot_key(identity: str, taken: set[str]) -> str:
    """A manifest key for a normalized URL: ``example.com/bounces`` gives ``example.com-bounces``.

    Lowercased, every run of other characters a ``-``, at most 63 characters
    (the schema's pattern), made unique against ``taken`` with a number.
    """
    base = _NOT_A_KEY_CHAR.sub("-", identity.lower()).strip("-._")[:_KEY_LENGTH] or "export"
    key, number = base, 2
    while key in taken:
        suffix = f"-{number}"
        key, number = base[: _KEY_LENGTH - len(suffix)] + suffix, number + 1
    taken.add(key)
    return key


def render_manifest(exports: list[Export], *, source: str) -> tuple[str, int]:
    """The manifest's YAML text and how many snapshots it holds, one per URL, in list order."""
    identities = [i for i in dict.fromkeys(url_identity(e.url) for e in exports) if i is not None]
    taken: set[str] = set()
    snapshots: list[dict[str, Any]] = [
        {"key": snapshot_key(identity, taken), "url": f"/v3/{identity}", "max_age": "24h"}
        for identity in identities
    ]
    document = {"version": 1, SECTION: {"snapshots": snapshots}}
    header = (
        f"# Imported by `exportctl import mailgun` from {source}: the URLs exported in the\n"
        "# last 24 hours. max_age 24h is the most Mailgun allows; tighten it as you need.\n"
    )
    body = yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    return header + body, len(snapshots)


@click.command("import")
@import_out_option
@import_connection_options(
    base_url_variable="MAILGUN_BASE_URL (or MAILGUN_REGION)",
    sandbox_lists="Import lists the exports that earlier commands with the same DB "
    "requested in the last 24 hours.",
)
def import_(
    out_path: str | None, endpoint: str | None, sandbox_db: str | None, parallelism: int
) -> None:
    """Write a manifest of the exports the Mailgun account made in the last 24 hours.

    \b
    Example:
      exportctl import mailgun --out mailgun.yaml
    """
    connection = Connection(endpoint=endpoint, sandbox_db=sandbox_db, parallelism=parallelism)
    provider = FACTORY.open(connection, DesiredState(()))
    assert isinstance(provider, MailgunProvider)

    async def listed() -> tuple[list[Export], str]:
        async with provider:
            listing = await provider.client.list_exports()
        return list(listing.exports), provider.client.endpoint

    exports, where = asyncio.run(listed())
    source = f"the embedded sandbox {sandbox_db}" if sandbox_db is not None else where
    text, count = render_manifest(exports, source=source)
    write_manifest(text, out_path)
    click.echo(f"Imported {count} snapshots into {out_path or 'stdout'}.", err=True)
