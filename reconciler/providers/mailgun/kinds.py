"""What a Mailgun snapshot is, without any I/O: URL identity, max_age, run states.

A manifest entry asks for "a complete export of this API URL, no older than
``max_age``". The core's snapshot planner (``reconciler.snapshot_planner``)
decides run, fresh or wait from the entry's ``SnapshotSpec`` and the listed
exports as ``LiveRun`` values; this module supplies the Mailgun facts both
need: one identity for every spelling of a URL (``normalize_url``), the
24-hour bound on ``max_age``, and how a listed export reads as a run (its
state from its status, its age from its id, on the server's clock).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from reconciler.model import FrozenDict, LiveRun, RunState, freeze
from reconciler.providers.mailgun.wire import COMPLETE, PROCESSING, REQUESTED, Export, created_at

__all__ = [
    "API_VERSION",
    "EXPORT_LIFETIME_S",
    "SNAPSHOT_TYPE",
    "MaxAgeError",
    "format_duration",
    "live_run",
    "live_runs",
    "normalize_url",
    "parse_max_age",
    "request_of",
    "request_url",
    "run_state",
    "url_identity",
]

API_VERSION = "v3"
# "Exports are available for 24 hours after creation" (the last published docs).
EXPORT_LIFETIME_S = 24 * 3600

# What a plan calls what a Mailgun export makes ("+ domains (csv)").
SNAPSHOT_TYPE = "csv"

# A first path segment that is a URL's origin: a scheme (RFC 3986), or a host and port.
_SCHEME_OR_PORT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:|[^:]+:\d+$")

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_EXAMPLES = "e.g. 6h, 30m, 1h30m or 1d"


def normalize_url(url: str) -> str:
    """The identity of an API URL: its path segments without the API version.

    Mailgun is asked for ``/v3/domains`` but stores and lists ``domains``
    (the docs' samples), while its Go mock echoes the input unchanged. So
    both sides are reduced to one form before they are compared:

    - whitespace around the URL and its segments, leading, trailing and doubled slashes go (a
      path's empty segments name nothing);
    - a leading ``v3`` segment goes: the exports API lives under ``/v3`` and
      every URL it exports is relative to that version. Repeated, it goes
      again, so normalizing twice changes nothing. Other versions (``v4``)
      stay: they are other APIs, not spellings of the same one;
    - case and any query string are kept as written: paths are
      case-sensitive, and a query changes what the list holds.

    Hence ``/v3/domains``, ``v3/domains``, ``domains`` and ``/domains/`` are
    one URL, ``domains``. ``ValueError`` when nothing is left, or when the
    URL starts with a scheme or host (``_origin_length``).
    """
    text = url.strip()
    path, mark, query = text.partition("?")
    segments = [segment.strip() for segment in path.split("/") if segment.strip()]
    while segments and segments[0] == API_VERSION:
        segments.pop(0)
    if not segments:
        raise ValueError(
            f"url {url!r} names no API list: write the partial API URL to export, "
            "e.g. /v3/domains or /v3/example.com/bounces"
        )
    origin = _origin_length(segments)
    if origin:
        raise ValueError(_origin_message(segments[origin:], mark + query))
    return "/".join(segments) + mark + query


def _origin_length(segments: list[str]) -> int:
    """How many leading segments name a scheme or host rather than a path; 0 for a path.

    Read as a path, ``https://api.mailgun.net/v3/domains`` would silently
    become ``https:/api.mailgun.net/v3/domains``, a list no account has. No
    API path starts with a scheme (``https:``, its host next unless the
    version is) or a host and port (``localhost:8080``), while an unresolved
    ``${env:NAME}`` is neither. A dotted segment right before the version is a
    host too (``api.mailgun.net/v3/domains``): a domain comes after it.
    Checked on the segments, not the text, so normalizing twice agrees.
    """
    first = segments[0]
    if _SCHEME_OR_PORT.match(first):
        has_host = first.endswith(":") and segments[1:2] not in ([], [API_VERSION])
        return 2 if has_host else 1
    return 1 if "." in first and segments[1:2] == [API_VERSION] else 0


def _origin_message(rest: list[str], query: str) -> str:
    """Why a URL with a scheme or host is refused, and its path to write instead.

    The URL itself is not quoted: it may carry a key (``https://api:KEY@...``).
    """
    try:
        path = request_url("/".join(rest) + query)
    except ValueError:  # nothing, or another host, follows: only an example helps
        path = f"e.g. /{API_VERSION}/domains"
    return (
        f"url has a scheme or host; write the API path alone, {path}: exportctl sends it "
        "to your Mailgun account's API host, which comes from MAILGUN_REGION or "
        "MAILGUN_BASE_URL, not from the manifest"
    )


def url_identity(url: str) -> str | None:
    """``normalize_url`` for a URL the server listed: ``None`` when it is no API path.

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


def request_of(url: str) -> FrozenDict:
    """A snapshot's identity as the core compares it: ``{"url": <normalized>}``.

    Both sides are built here, the manifest entry's and each listed export's,
    so ``/v3/domains`` in the manifest matches ``domains`` on the server.
    """
    frozen: FrozenDict = freeze({"url": normalize_url(url)})
    return frozen


def run_state(status: str, age_s: float | None) -> RunState:
    """Where an export stands, whatever Mailgun's word for it.

    ``requested`` and ``processing`` run; ``complete`` succeeded; past 24
    hours any export has expired (gone from the API). Mailgun documents no
    failure status, so any other word is taken as a failure: it is not a
    usable export, and a new one is the way out.
    """
    if age_s is not None and age_s >= EXPORT_LIFETIME_S:
        return RunState.EXPIRED
    if status in (REQUESTED, PROCESSING):
        return RunState.RUNNING
    if status == COMPLETE:
        return RunState.SUCCEEDED
    return RunState.FAILED


def live_run(export: Export, now: datetime) -> LiveRun | None:
    """A listed export as the core's run, aged at ``now`` (the server's time).

    The age counts from the id's creation second; a little clock skew never
    makes it negative. ``None`` for a record whose url names nothing: a
    server's odd record must not stop a plan.

    Limitation: an id that tells no time (the Go mock numbers them) is aged
    24 hours, the most the API allows for a listed export: such an export is
    fresh only for ``max_age: 24h``, and never shown younger than it may be.
    """
    identity = url_identity(export.url)
    if identity is None:
        return None
    created = created_at(export.id)
    age = None if created is None else max(now.timestamp() - created, 0.0)
    state = run_state(export.status, age)
    failure = f"Mailgun reports status {export.status!r}" if state is RunState.FAILED else None
    return LiveRun(
        run_id=export.id,
        request=request_of(identity),
        state=state,
        age_s=float(EXPORT_LIFETIME_S) if age is None else age,
        status=export.status,
        failure=failure,
    )


def live_runs(exports: Iterable[Export], now: datetime) -> tuple[LiveRun, ...]:
    """Every usable listed export as a run, the newest listed first.

    Mailgun lists oldest first; listing the newest first breaks ties between
    equal ages (ids that tell no time) in favour of the last listed.
    """
    runs = (live_run(export, now) for export in reversed(list(exports)))
    return tuple(run for run in runs if run is not None)
