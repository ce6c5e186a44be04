"""What a Mailgun snapshot is, without any I/O: identity, phases, freshness.

A manifest entry (``Snapshot``) asks for "a complete export of this API URL,
no older than ``max_age``". Mailgun keeps an export 24 hours and runs at most
one per URL at a time, so for each entry the plan says one of:

- ``fresh``: a complete export of the URL is young enough; nothing to do;
- ``wait``: an export of the URL is in progress; a new one would be refused;
- ``run``: neither; apply must request a new export.

``decide`` gives that verdict and the sentence a user reads in the plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from reconciler.providers.mailgun.wire import COMPLETE, PROCESSING, REQUESTED, Export, created_at

__all__ = [
    "API_VERSION",
    "EXPORT_LIFETIME_S",
    "Decision",
    "ListedExport",
    "MaxAgeError",
    "Phase",
    "Snapshot",
    "Verdict",
    "decide",
    "format_duration",
    "listed",
    "normalize_url",
    "parse_max_age",
    "phase",
    "request_url",
    "url_identity",
]

API_VERSION = "v3"
# "Exports are available for 24 hours after creation" (the last published docs).
EXPORT_LIFETIME_S = 24 * 3600

Phase = Literal["running", "succeeded", "failed", "expired"]
Verdict = Literal["run", "fresh", "wait"]

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_EXAMPLES = "e.g. 6h, 30m, 1h30m or 1d"


def normalize_url(url: str) -> str:
    """The identity of an API URL: its path segments without the API version.

    Mailgun is asked for ``/v3/domains`` but stores and lists ``domains``
    (the docs' samples), while its Go mock echoes the input unchanged. So
    both sides are reduced to one form before they are compared:

    - surrounding whitespace, leading, trailing and doubled slashes go (a
      path's empty segments name nothing);
    - a leading ``v3`` segment goes: the exports API lives under ``/v3`` and
      every URL it exports is relative to that version. Repeated, it goes
      again, so normalizing twice changes nothing. Other versions (``v4``)
      stay: they are other APIs, not spellings of the same one;
    - case and any query string are kept as written: paths are
      case-sensitive, and a query changes what the list holds.

    Hence ``/v3/domains``, ``v3/domains``, ``domains`` and ``/domains/`` are
    one URL, ``domains``. ``ValueError`` when nothing is left.
    """
    text = url.strip()
    path, mark, query = text.partition("?")
    segments = [segment for segment in path.split("/") if segment]
    while segments and segments[0] == API_VERSION:
        segments.pop(0)
    if not segments:
        raise ValueError(
            f"url {url!r} names no API list: write the partial API URL to export, "
            "e.g. /v3/domains or /v3/example.com/bounces"
        )
    return "/".join(segments) + mark + query


def url_identity(url: str) -> str | None:
    """``normalize_url`` for a URL the server listed: ``None`` when it names nothing.

    A server's odd record must not stop a plan; it just matches no snapshot.
    """
    try:
        return normalize_url(url)
    except ValueError:
        return None


def request_url(url: str) -> str:
    """The form a create request sends: ``/v3/<normalized>``, as the docs write it."""
    return f"/{API_VERSION}/{normalize_url(url)}"


class MaxAgeError(ValueError):
    """A ``max_age`` that cannot be used; the message says why, for the user."""


def parse_max_age(value: str | int) -> int:
    """``max_age`` in seconds, from ``6h``, ``30m``, ``1h30m``, ``1d`` or an integer.

    Units are ``d``, ``h``, ``m`` and ``s``, largest first, each at most once.
    More than 24 hours is refused: Mailgun deletes an export 24 hours after
    creating it, so an older one could never count as fresh and such a bound
    would only mislead.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MaxAgeError(f"max_age must be a duration such as 6h, got {value!r}")
    if isinstance(value, int):
        seconds, shown = value, f"{value} s"
    else:
        shown = value.strip()
        match = _DURATION.fullmatch(shown)
        if not shown or match is None:
            raise MaxAgeError(
                f"max_age {value!r} is not a duration: write whole numbers with the units "
                f"d, h, m or s, largest first ({_DURATION_EXAMPLES})"
            )
        seconds = sum(
            int(amount) * _UNIT_SECONDS[unit]
            for amount, unit in zip(match.groups(), "dhms", strict=True)
            if amount
        )
    if seconds <= 0:
        raise MaxAgeError(f"max_age {shown} must be longer than 0")
    if seconds > EXPORT_LIFETIME_S:
        raise MaxAgeError(
            f"max_age {shown} ({format_duration(seconds)}) is longer than 24h: Mailgun deletes "
            "an export 24 hours after creating it, so an older one can never count as "
            "fresh. Use 24h or less."
        )
    return seconds


def format_duration(seconds: float) -> str:
    """A duration as a plan shows it: ``45s``, ``5m 3s``, ``2h 5m``, ``24h``.

    Past an hour the seconds are dropped: nobody plans by them.
    """
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


@dataclass(frozen=True)
class Snapshot:
    """One entry of the manifest's ``mailgun: {snapshots: [...]}``.

    ``url`` is kept as written (for messages); ``identity`` is what matches
    it to listed exports. ``download`` is a local path for the CSV.
    """

    key: str
    url: str
    max_age_s: int
    download: str | None = None

    def __post_init__(self) -> None:
        normalize_url(self.url)  # raises early for a URL that names nothing
        if not 0 < self.max_age_s <= EXPORT_LIFETIME_S:
            raise MaxAgeError(f"max_age must be 1 s to 24h, got {self.max_age_s} s")

    @property
    def identity(self) -> str:
        return normalize_url(self.url)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Snapshot:
        """A snapshot from a manifest entry that passed the section's schema."""
        download = entry.get("download")
        return cls(
            key=str(entry["key"]),
            url=str(entry["url"]),
            max_age_s=parse_max_age(entry["max_age"]),
            download=None if download is None else str(download),
        )


def phase(status: str, age_s: float | None) -> Phase:
    """Where an export stands, whatever Mailgun's word for it.

    ``requested`` and ``processing`` run; ``complete`` succeeded; past 24
    hours any export is ``expired`` (gone from the API). Mailgun documents no
    failure status, so any other word is taken as a failure: it is not a
    usable export, and a new one is the way out.
    """
    if age_s is not None and age_s >= EXPORT_LIFETIME_S:
        return "expired"
    if status in (REQUESTED, PROCESSING):
        return "running"
    if status == COMPLETE:
        return "succeeded"
    return "failed"


@dataclass(frozen=True)
class ListedExport:
    """A listed export and its age in seconds (``None`` when its id tells no time)."""

    export: Export
    age_s: float | None

    @property
    def phase(self) -> Phase:
        return phase(self.export.status, self.age_s)


def listed(exports: Iterable[Export], now: datetime) -> tuple[ListedExport, ...]:
    """The exports with their ages at ``now``, which should be the server's time.

    Ages count from the id's creation second to ``now``; a little clock skew
    never makes one negative.
    """
    reference = now.timestamp()
    aged = []
    for export in exports:
        created = created_at(export.id)
        age = None if created is None else max(reference - created, 0.0)
        aged.append(ListedExport(export, age))
    return tuple(aged)


@dataclass(frozen=True)
class Decision:
    """The verdict for one snapshot, why, and the export it rests on.

    ``export_id`` names the fresh export (``fresh``: the one to download) or
    the one in progress (``wait``); ``run`` has none.
    """

    verdict: Verdict
    reason: str
    export_id: str | None = None


def decide(snapshot: Snapshot, exports: Iterable[ListedExport]) -> Decision:
    """Run, fresh or wait for ``snapshot``, given every export listed with its age.

    Exports of other URLs are ignored. A fresh complete export wins over one
    in progress (nothing to do either way); an export in progress means wait,
    since Mailgun refuses a second one for the URL until it completes. An age
    that cannot be read counts as fresh only for ``max_age`` 24h: the API
    lists only exports created within the last 24 hours.
    """
    limit = format_duration(snapshot.max_age_s)
    mine = _newest_first(e for e in exports if url_identity(e.export.url) == snapshot.identity)
    usable = [e for e in mine if e.phase == "succeeded"]
    for candidate in usable:
        if candidate.age_s is None and snapshot.max_age_s >= EXPORT_LIFETIME_S:
            reason = (
                f"export {candidate.export.id} is complete; its id tells no age, but Mailgun "
                f"lists only exports of the last 24 hours, within max_age {limit}"
            )
            return Decision("fresh", reason, candidate.export.id)
        if candidate.age_s is not None and candidate.age_s <= snapshot.max_age_s:
            age = format_duration(candidate.age_s)
            reason = f"export {candidate.export.id} completed, {age} old, within max_age {limit}"
            return Decision("fresh", reason, candidate.export.id)
    for candidate in mine:
        if candidate.phase == "running":
            since = "" if candidate.age_s is None else f", requested {_ago(candidate.age_s)}"
            reason = (
                f"export {candidate.export.id} is {candidate.export.status}{since}; Mailgun "
                "runs one export per URL at a time"
            )
            return Decision("wait", reason, candidate.export.id)
    return Decision("run", _why_run(snapshot, mine, usable, limit))


def _why_run(
    snapshot: Snapshot, mine: list[ListedExport], usable: list[ListedExport], limit: str
) -> str:
    if usable:
        newest = usable[0]
        if newest.age_s is None:
            return (
                f"the newest complete export ({newest.export.id}) tells no age (its id holds "
                f"no time), so it cannot be shown to be within max_age {limit}"
            )
        age = format_duration(newest.age_s)
        return f"the newest complete export ({newest.export.id}) is {age} old, over max_age {limit}"
    if mine:
        newest = mine[0]
        if newest.phase == "expired":
            return (
                f"the newest export ({newest.export.id}) has expired: Mailgun keeps exports "
                "for 24 hours"
            )
        return f"the newest export ({newest.export.id}) ended as {newest.export.status!r}"
    return f"no export of {snapshot.identity!r} in the last 24 hours"


def _newest_first(exports: Iterable[ListedExport]) -> list[ListedExport]:
    """Youngest first; exports of unknown age after them, the last listed first.

    Mailgun lists oldest first, so among ids that tell no time the list's
    order is the best guess.
    """
    ordered = list(exports)[::-1]
    return sorted(ordered, key=lambda e: (e.age_s is None, e.age_s or 0.0))


def _ago(seconds: float) -> str:
    return "just now" if seconds < 1 else f"{format_duration(seconds)} ago"
