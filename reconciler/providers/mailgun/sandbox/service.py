"""The exports API's rules, between the HTTP layer and the database.

What the last published docs say, on the sandbox clock:

- a created export answers ``requested``, is ``processing`` until
  ``job_delay_ms`` has passed, then ``complete`` (``job_failure_rate``
  makes some never complete: Mailgun has no failure status, so a stuck
  export is the failure it can show);
- while an export of a URL is processing, another request for that URL is
  a 400;
- exports live 24 hours: after that they are gone from the list, by id and
  for download;
- a complete export's ``download_url`` is a 302 to a signed, temporary link.

Blocking by design (SQLite): the routes call these through starlette's
threadpool.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.providers.mailgun.kinds import EXPORT_LIFETIME_S, normalize_url
from reconciler.providers.mailgun.sandbox.lists import DEFAULT_LISTS, render_csv
from reconciler.providers.mailgun.sandbox.signing import LinkProblem, check_link, sign_link
from reconciler.providers.mailgun.sandbox.store import Store, StoredExport
from reconciler.providers.mailgun.wire import COMPLETE, PROCESSING, REQUESTED
from reconciler.sandbox.clock import SandboxClock
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.problems import bad_request, not_found

__all__ = ["FILES_PREFIX", "Created", "MailgunSandbox"]

# Where the sandbox serves export files: a stand-in for the S3 bucket.
FILES_PREFIX = "/_s3/mailgun-exports"


@dataclass(frozen=True)
class Created:
    """A create's answer, and whether commit-then-fail replaces it."""

    body: dict[str, str]
    failure: Literal["503", "drop"] | None = None


class MailgunSandbox:
    """The sandbox's exports, as the API shows them at the clock's time."""

    def __init__(self, store: Store, faults: Faults, clock: SandboxClock) -> None:
        self.store = store
        self.faults = faults
        self.clock = clock
        with store.transaction() as tx:
            if tx.setting("seeded") is None:
                for url, rows in DEFAULT_LISTS.items():
                    tx.add_rows(url, rows)
                tx.set_setting("seeded", "1")

    def create(self, url: str | None) -> Created:
        """Request an export of ``url``; a 400 while one of it is processing."""
        if not url:
            raise bad_request("Missing mandatory parameter: url")
        identity = _identity(url)
        now = self.clock.now()
        with self.store.transaction() as tx:
            for export in tx.exports(now - EXPORT_LIFETIME_S, identity):
                if _status(export, now) == PROCESSING:
                    raise bad_request(
                        f"An export of {identity} is already being processed "
                        f"(id {export.id}); request it again once it is complete"
                    )
            _, stuck = self.faults.job_plan()
            delay_s = self.faults.config.job_delay_ms / 1000
            csv = render_csv(tx.rows(identity))
            export = tx.insert_export(identity, now, None if stuck else now + delay_s, csv)
            failure = self.faults.after_commit()
        return Created({"id": export.id, "status": REQUESTED, "url": identity}, failure)

    def list(self, url: str | None) -> dict[str, Any]:
        """``{"items": [...]}``: the exports of the last 24 hours, oldest first."""
        identity = _identity(url) if url else None
        now = self.clock.now()
        with self.store.transaction() as tx:
            exports = tx.exports(now - EXPORT_LIFETIME_S, identity)
        return {"items": [_shown(export, now) for export in exports]}

    def get(self, export_id: str) -> dict[str, str]:
        return _shown(self._live(export_id), self.clock.now())

    def download_link(self, export_id: str, root_url: str) -> str:
        """The signed link to a complete export's file; 400 before it completes."""
        now = self.clock.now()
        export = self._live(export_id)
        if _status(export, now) != COMPLETE:
            raise bad_request(f"Export {export.id} is not complete yet; try again later")
        name = f"{export.id}.csv"
        query = urllib.parse.urlencode(sign_link(self.store.signing_key, name, now))
        return f"{root_url.rstrip('/')}{FILES_PREFIX}/{name}?{query}"

    def file(self, name: str, query: Mapping[str, str], authorization: str | None) -> bytes:
        """A linked file's bytes; ``LinkProblem`` or ``NoSuchKey`` as S3 answers."""
        now = self.clock.now()
        check_link(self.store.signing_key, name, query, authorization, now)
        export_id, _, suffix = name.partition(".")
        export = self._find(export_id, now) if suffix == "csv" else None
        if export is None:
            raise LinkProblem(404, "NoSuchKey", "The specified key does not exist.")
        return export.csv

    def add_rows(self, url: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Append rows to an API list, for exports made from now on."""
        identity = _identity(url)
        with self.store.transaction() as tx:
            count = tx.add_rows(identity, rows)
        return {"url": identity, "rows": count}

    def _live(self, export_id: str) -> StoredExport:
        export = self._find(export_id, self.clock.now())
        if export is None:
            raise not_found("export not found")
        return export

    def _find(self, export_id: str, now: float) -> StoredExport | None:
        with self.store.transaction() as tx:
            export = tx.export(export_id)
        if export is None or export.created_at <= now - EXPORT_LIFETIME_S:
            return None
        return export


def _identity(url: str) -> str:
    try:
        return normalize_url(url)
    except ValueError as exc:
        message = str(exc)
    raise bad_request(message)


def _status(export: StoredExport, now: float) -> str:
    done = export.due_at is not None and now >= export.due_at
    return COMPLETE if done else PROCESSING


def _shown(export: StoredExport, now: float) -> dict[str, str]:
    return {"id": export.id, "status": _status(export, now), "url": export.url}
