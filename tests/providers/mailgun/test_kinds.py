"""Mailgun's snapshot facts: URL identity, max_age, phases and the run/fresh/wait verdict."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.providers.mailgun.kinds import (
    Decision,
    ListedExport,
    MaxAgeError,
    Snapshot,
    decide,
    format_duration,
    listed,
    normalize_url,
    parse_max_age,
    phase,
    request_url,
)
from reconciler.providers.mailgun.wire import Export

HOUR = 3600
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# Path segments as API URLs have them (domains, list names, addresses), with
# "v" and "3" so that near-versions like "v33" and "v3x" turn up; "v3" itself
# is the version, not a segment.
_SEGMENT_CHARS = st.sampled_from("abv3XYZ09.-_@%+")
segment = st.text(_SEGMENT_CHARS, min_size=1, max_size=12).filter(lambda s: s != "v3")
path = st.lists(segment, min_size=1, max_size=4).map("/".join)
anything = st.text(max_size=40)


def _normalizes(text: str) -> bool:
    try:
        normalize_url(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("spelling", ["/v3/domains", "v3/domains", "domains", "/domains/"])
def test_the_four_spellings_of_domains_are_one_url(spelling: str) -> None:
    assert normalize_url(spelling) == "domains"


@given(path)
def test_version_and_slashes_never_change_identity(p: str) -> None:
    expected = normalize_url(p)
    assert expected == p
    for spelling in (f"/v3/{p}", f"v3/{p}", f"/{p}/", f"//v3//{p}//", f"  /v3/{p} "):
        assert normalize_url(spelling) == expected


@given(anything.filter(_normalizes))
def test_normalizing_twice_changes_nothing(text: str) -> None:
    once = normalize_url(text)
    assert normalize_url(once) == once
    assert not once.startswith(("/", "v3/")) and once != "v3"


@given(anything.filter(_normalizes))
def test_the_request_form_has_the_same_identity(text: str) -> None:
    sent = request_url(text)
    assert sent.startswith("/v3/")
    assert normalize_url(sent) == normalize_url(text)


@given(path, path)
def test_different_paths_stay_different(a: str, b: str) -> None:
    assert (normalize_url(f"/v3/{a}") == normalize_url(b)) == (a == b)


def test_other_versions_case_and_queries_are_kept() -> None:
    assert normalize_url("/v4/domains") == "v4/domains"
    assert normalize_url("/v3/Example.com/bounces") == "Example.com/bounces"
    assert normalize_url("/v3/example.com/bounces/?limit=5") == "example.com/bounces?limit=5"


@pytest.mark.parametrize("empty", ["", "  ", "/", "/v3/", "v3", "//v3//v3/", "?limit=1"])
def test_a_url_that_names_nothing_is_refused(empty: str) -> None:
    with pytest.raises(ValueError, match=r"names no API list.*e\.g\. /v3/domains"):
        normalize_url(empty)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("6h", 6 * HOUR), ("30m", 1800), ("1d", 24 * HOUR), ("1h30m", 5400), ("90s", 90),
     (" 24h ", 24 * HOUR), ("23h59m59s", 24 * HOUR - 1), (3600, 3600)],
)  # fmt: skip
def test_max_age_parses(text: str | int, seconds: int) -> None:
    assert parse_max_age(text) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2d", r"max_age 2d \(48h\) is longer than 24h: Mailgun deletes an export 24 hours"),
        ("25h", r"longer than 24h.*Use 24h or less"),
        ("24h1s", r"\(24h\) is longer than 24h"),
        (86401, r"86401 s \(24h\) is longer than 24h"),
        ("0h", "must be longer than 0"),
        (0, "must be longer than 0"),
        ("6 hours", r"is not a duration: .*units d, h, m or s.*e\.g\. 6h, 30m"),
        ("1.5h", "is not a duration"),
        ("30m6h", "is not a duration"),  # largest unit first
        ("3600", "is not a duration"),  # a string needs a unit
        ("", "is not a duration"),
        ("-1h", "is not a duration"),
        (True, "must be a duration"),
        (1.5, "must be a duration"),
    ],
)
def test_max_age_errors_say_why(value: object, message: str) -> None:
    with pytest.raises(MaxAgeError, match=message):
        parse_max_age(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (45, "45s"), (300, "5m"), (303, "5m 3s"), (7500, "2h 5m"), (7503, "2h 5m"),
     (86400, "24h"), (-3, "0s")],
)  # fmt: skip
def test_durations_read_as_a_plan_shows_them(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


@pytest.mark.parametrize(
    ("status", "age", "expected"),
    [
        ("requested", 10, "running"),
        ("processing", None, "running"),
        ("complete", 23 * HOUR, "succeeded"),
        ("complete", 24 * HOUR, "expired"),
        ("processing", 25 * HOUR, "expired"),
        ("failed", 60, "failed"),
        ("", 60, "failed"),
    ],
)
def test_statuses_map_to_phases(status: str, age: float | None, expected: str) -> None:
    assert phase(status, age) == expected


def _id(seconds_ago: float) -> str:
    """An ObjectId created ``seconds_ago`` before NOW (its first 8 hex digits)."""
    return f"{int(NOW.timestamp() - seconds_ago):08x}" + "0" * 16


def test_ages_come_from_the_object_id_and_the_given_clock() -> None:
    exports = [Export(_id(2 * HOUR), "complete", "domains"), Export("7", "complete", "domains")]
    aged = listed(exports, NOW)
    assert aged[0].age_s == 2 * HOUR
    assert aged[1].age_s is None
    future = listed([Export(_id(-5), "complete", "domains")], NOW)
    assert future[0].age_s == 0  # skew between clocks never makes an age negative


SNAP = Snapshot(key="domains", url="/v3/domains", max_age_s=6 * HOUR)


def aged(id_: str, status: str, age: float | None, url: str = "domains") -> ListedExport:
    return ListedExport(Export(id_, status, url), age)


def test_no_export_means_run() -> None:
    assert decide(SNAP, []) == Decision("run", "no export of 'domains' in the last 24 hours")


def test_a_young_complete_export_is_fresh_whatever_its_url_spelling() -> None:
    decision = decide(SNAP, [aged("a", "complete", 2 * HOUR + 300, url="/v3/domains/")])
    assert decision == Decision(
        "fresh", "export a completed, 2h 5m old, within max_age 6h", export_id="a"
    )


def test_the_newest_complete_export_is_the_one_chosen() -> None:
    exports = [aged("old", "complete", 5 * HOUR), aged("new", "complete", HOUR)]
    assert decide(SNAP, exports).export_id == "new"


def test_a_stale_export_means_run_and_says_by_how_much() -> None:
    decision = decide(SNAP, [aged("a", "complete", 7 * HOUR + 120)])
    assert decision.verdict == "run"
    assert decision.reason == "the newest complete export (a) is 7h 2m old, over max_age 6h"


def test_an_export_in_progress_means_wait() -> None:
    decision = decide(SNAP, [aged("s", "complete", 8 * HOUR), aged("p", "processing", 180)])
    assert decision.verdict == "wait"
    assert decision.export_id == "p"
    assert decision.reason == (
        "export p is processing, requested 3m ago; Mailgun runs one export per URL at a time"
    )


def test_fresh_wins_over_an_export_in_progress() -> None:
    decision = decide(SNAP, [aged("f", "complete", HOUR), aged("p", "requested", 0)])
    assert (decision.verdict, decision.export_id) == ("fresh", "f")


def test_exports_of_other_urls_are_ignored() -> None:
    others = [
        aged("b", "complete", 60, "example.com/bounces"),
        aged("v", "complete", 60, "v4/domains"),
    ]
    assert decide(SNAP, others).verdict == "run"


def test_an_unknown_status_is_a_failure_and_means_run() -> None:
    decision = decide(SNAP, [aged("x", "error", HOUR)])
    assert decision == Decision("run", "the newest export (x) ended as 'error'")


def test_an_expired_export_means_run_and_says_why() -> None:
    decision = decide(SNAP, [aged("x", "complete", 25 * HOUR)])
    assert decision.verdict == "run"
    assert "has expired: Mailgun keeps exports for 24 hours" in decision.reason


def test_an_age_that_cannot_be_read_is_fresh_only_for_24h() -> None:
    exports = [aged("0", "complete", None), aged("1", "complete", None)]
    loose = Snapshot(key="d", url="domains", max_age_s=24 * HOUR)
    assert decide(loose, exports).verdict == "fresh"
    assert decide(loose, exports).export_id == "1"  # the last listed is the newest
    strict = decide(SNAP, exports)
    assert strict.verdict == "run"
    assert "tells no age" in strict.reason and "max_age 6h" in strict.reason


def test_a_snapshot_from_a_manifest_entry() -> None:
    entry = {"key": "bounces", "url": "/v3/example.com/bounces", "max_age": "30m"}
    snapshot = Snapshot.from_entry({**entry, "download": "out/bounces.csv"})
    assert snapshot.identity == "example.com/bounces"
    assert snapshot.max_age_s == 1800
    assert snapshot.download == "out/bounces.csv"
    assert Snapshot.from_entry(entry).download is None
    with pytest.raises(MaxAgeError, match="Mailgun deletes"):
        Snapshot.from_entry({**entry, "max_age": "2d"})
    with pytest.raises(ValueError, match="names no API list"):
        Snapshot.from_entry({**entry, "url": "/v3/"})
