"""Mailgun's snapshot facts: URL identity, max_age, run states, and the core's verdict on them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.model import LiveRun, LiveScope, RunState, ScopeSpec, SnapshotSpec
from reconciler.plan import Action
from reconciler.providers.mailgun.kinds import (
    MaxAgeError,
    format_duration,
    live_run,
    live_runs,
    normalize_url,
    parse_max_age,
    request_of,
    request_url,
    run_state,
)
from reconciler.providers.mailgun.section import account_scope
from reconciler.providers.mailgun.wire import Export
from reconciler.snapshot_planner import plan_snapshots

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


FROM_THE_ENVIRONMENT = (
    r": exportctl sends it to your Mailgun account's API host, which comes from "
    r"MAILGUN_REGION or MAILGUN_BASE_URL, not from the manifest$"
)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("https://api.mailgun.net/v3/domains", "/v3/domains"),
        ("http://api.eu.mailgun.net:443/v3/example.com/bounces/", "/v3/example.com/bounces"),
        ("https://api.mailgun.net/domains?limit=5", "/v3/domains?limit=5"),
        ("https:/api.mailgun.net/v3/domains", "/v3/domains"),  # what the plan used to show
        ("http:/v3/domains", "/v3/domains"),
        ("//api.mailgun.net/v3/domains", "/v3/domains"),
        ("api.mailgun.net/v3/domains", "/v3/domains"),
        ("localhost:8080/v3/domains", "/v3/domains"),
        ("127.0.0.1:8080/v3/domains", "/v3/domains"),
        ("/v3/https://api.mailgun.net/v3/domains", "/v3/domains"),
        ("https://api.mailgun.net", "e.g. /v3/domains"),
        ("https://api.mailgun.net/v3/", "e.g. /v3/domains"),
    ],
)
def test_a_url_with_a_scheme_or_host_is_refused_with_its_path(text: str, path: str) -> None:
    with pytest.raises(ValueError, match=r"^url has a scheme or host; ") as caught:
        normalize_url(text)
    offered = f"write the API path alone, {re.escape(path)}{FROM_THE_ENVIRONMENT}"
    assert re.search(offered, str(caught.value))


def test_a_refused_url_is_not_quoted_as_it_may_hold_the_key() -> None:
    with pytest.raises(ValueError) as caught:
        normalize_url("https://api:key-3ax6xnjp29jd6fds4gc373sgvjxteol0@api.mailgun.net/v3/domains")
    assert "key-3ax6" not in str(caught.value)
    assert "/v3/domains:" in str(caught.value)


@given(path)
def test_any_path_behind_the_api_host_is_refused_and_offered_alone(p: str) -> None:
    with pytest.raises(ValueError, match=f"alone, {re.escape(request_url(p))}: "):
        normalize_url(f"https://api.mailgun.net/v3/{p}")


@pytest.mark.parametrize(
    "text",
    [
        "mg.example.com/bounces",
        "/v3/lists/dev@mg.example.com/members",
        "domains?created=2026-01-01T00:00:00",
        "${env:MAILGUN_LIST}",  # as it stays when the variable is unset
    ],
)
def test_domains_addresses_queries_and_references_are_still_paths(text: str) -> None:
    assert normalize_url(text) == text.removeprefix("/v3/")


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
        ("requested", 10, RunState.RUNNING),
        ("processing", None, RunState.RUNNING),
        ("complete", 23 * HOUR, RunState.SUCCEEDED),
        ("complete", 24 * HOUR, RunState.EXPIRED),
        ("processing", 25 * HOUR, RunState.EXPIRED),
        ("failed", 60, RunState.FAILED),
        ("", 60, RunState.FAILED),
    ],
)
def test_statuses_map_to_run_states(status: str, age: float | None, expected: RunState) -> None:
    assert run_state(status, age) == expected


def _id(seconds_ago: float) -> str:
    """An ObjectId created ``seconds_ago`` before NOW (its first 8 hex digits)."""
    return f"{int(NOW.timestamp() - seconds_ago):08x}" + "0" * 16


def test_a_listed_export_is_a_run_aged_by_its_object_id() -> None:
    run = live_run(Export(_id(2 * HOUR), "complete", "/v3/domains/"), NOW)
    assert run == LiveRun(
        _id(2 * HOUR), request_of("domains"), RunState.SUCCEEDED, 2 * HOUR, "complete"
    )
    future = live_run(Export(_id(-5), "complete", "domains"), NOW)
    assert future is not None and future.age_s == 0  # clock skew never makes it negative


def test_an_unknown_status_is_a_failed_run_that_says_so() -> None:
    run = live_run(Export(_id(60), "error", "domains"), NOW)
    assert run is not None and run.failure == "Mailgun reports status 'error'"


def test_an_id_without_a_time_is_aged_24_hours_and_a_url_naming_nothing_is_left_out() -> None:
    runs = live_runs([Export("0", "complete", "domains"), Export("1", "complete", "/v3/")], NOW)
    assert [(r.run_id, r.age_s, r.state) for r in runs] == [("0", 24 * HOUR, RunState.SUCCEEDED)]


def test_runs_come_newest_listed_first() -> None:
    runs = live_runs([Export("0", "complete", "domains"), Export("1", "complete", "domains")], NOW)
    assert [r.run_id for r in runs] == ["1", "0"]


def _snapshot(url: str = "/v3/domains", max_age_s: int = 6 * HOUR) -> SnapshotSpec:
    return SnapshotSpec("domains", "csv", request_of(url), max_age_s=max_age_s)


def _plan(snapshot: SnapshotSpec, *exports: Export) -> tuple[Action, str]:
    scope = account_scope({})
    live = LiveScope(scope, runs=live_runs(exports, NOW))
    change = plan_snapshots(ScopeSpec(scope, snapshots=(snapshot,)), live).changes[0]
    return change.action, change.reason


def test_the_core_planner_reads_mailgun_exports_as_run_fresh_or_wait() -> None:
    assert _plan(_snapshot())[0] is Action.RUN
    young = Export(_id(2 * HOUR), "complete", "domains")
    assert _plan(_snapshot("domains/"), young)[0] is Action.FRESH
    stale = Export(_id(7 * HOUR), "complete", "/v3/domains")
    assert _plan(_snapshot(), stale) == (
        Action.RUN,
        f"the newest successful run ({stale.id}) is 7h old, older than max_age 6h",
    )
    running = Export(_id(180), "processing", "domains")
    action, reason = _plan(_snapshot(), stale, running)
    assert (action, reason) == (
        Action.WAIT,
        f"run {running.id} is processing (requested 3m ago); apply waits for it",
    )


def test_exports_of_other_urls_never_count() -> None:
    others = [
        Export(_id(60), "complete", "example.com/bounces"),
        Export(_id(61), "complete", "v4/domains"),
    ]
    assert _plan(_snapshot(), *others)[0] is Action.RUN


def test_an_age_that_cannot_be_read_is_fresh_only_for_24h() -> None:
    exports = [Export("0", "complete", "domains"), Export("1", "complete", "domains")]
    assert _plan(_snapshot(max_age_s=24 * HOUR), *exports)[0] is Action.FRESH
    assert _plan(_snapshot(), *exports)[0] is Action.RUN


def test_whitespace_around_a_segment_is_no_part_of_it() -> None:
    assert normalize_url("/ 0") == normalize_url("0") == "0"  # found by hypothesis
