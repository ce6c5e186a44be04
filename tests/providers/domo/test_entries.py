"""Reading a manifest entry: durations, regions, temporary keys, hidden credentials."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.providers.domo.entries import EntryError, parse_max_age
from reconciler.providers.domo.regions import AWS_REGIONS, region_problem
from tests.providers.domo.support import SECRETS, entry


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("6h", timedelta(hours=6)),
        ("30m", timedelta(minutes=30)),
        ("1d", timedelta(days=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("2h30m", timedelta(hours=2, minutes=30)),
        ("90s", timedelta(seconds=90)),
        (" 6h ", timedelta(hours=6)),
    ],
)
def test_max_age_reads_days_hours_minutes_and_seconds(text: str, age: timedelta) -> None:
    assert parse_max_age(text) == age


@pytest.mark.parametrize("text", ["", "6", "h", "6 h", "6H", "1h1d", "-1h", "1.5h", "6hours"])
def test_max_age_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(EntryError, match="is not a duration") as caught:
        parse_max_age(text)
    assert caught.value.field_path == "max_age"


def test_max_age_refuses_zero() -> None:
    with pytest.raises(EntryError, match="zero"):
        parse_max_age("0h")


@pytest.mark.parametrize("region", sorted(AWS_REGIONS))
def test_every_listed_region_is_valid(region: str) -> None:
    assert region_problem(region) is None


@pytest.mark.parametrize(
    ("written", "nearest"),
    [
        ("us-east", "us-east-1"),
        ("US-EAST-1", "us-east-1"),
        ("useast1", "us-east-1"),
        ("us_west_2", "us-west-2"),
        ("eu-wset-1", "eu-west-1"),
        ("us-esat-1", "us-east-1"),
        ("ap-sotheast-2", "ap-southeast-2"),
        ("eu-central", "eu-central-1"),
    ],
)
def test_a_wrong_region_names_the_nearest_valid_one(written: str, nearest: str) -> None:
    problem = region_problem(written)
    assert problem is not None
    assert f"did you mean {nearest!r}?" in problem


def test_an_availability_zone_is_told_apart() -> None:
    assert region_problem("eu-west-1b") == (
        "'eu-west-1b' is an availability zone, not a region: write the region 'eu-west-1'"
    )


def test_nothing_close_says_so_without_guessing() -> None:
    problem = region_problem("mars")
    assert problem is not None and "did you mean" not in problem


def test_an_entry_with_a_wrong_region_is_refused_at_the_region() -> None:
    with pytest.raises(EntryError) as caught:
        entry(region="us-esat-1")
    assert caught.value.field_path == "region"
    assert "'us-east-1'" in str(caught.value)


def test_a_temporary_key_needs_its_session_token_and_the_message_hides_the_key() -> None:
    temporary = "ASIAZZEXAMPLETEMP001"
    with pytest.raises(EntryError) as caught:
        entry(credentials={"access_key": temporary, "secret_key": "s"})
    assert caught.value.field_path == "credentials.session_token"
    assert temporary not in str(caught.value)


def test_the_path_loses_its_slashes_and_may_not_be_empty() -> None:
    assert entry(path="/domo/sales/").request.path == "domo/sales"
    with pytest.raises(EntryError, match="is empty"):
        entry(path="/")


def test_names_and_long_forms_of_columns_are_one_query() -> None:
    short = entry(query={"columns": ["Region"], "order_by": ["Region"]})
    long = entry(
        query={
            "columns": [{"column": "Region", "exprType": "COLUMN"}],
            "group_by": [],
            "order_by": [{"column": "Region", "exprType": "COLUMN"}],
        }
    )
    assert short.request == long.request
    assert short.request.query is not None
    assert short.request.query["groupByColumns"] == ()


def test_credentials_show_in_no_repr_and_take_no_part_in_equality() -> None:
    one = entry()
    other = entry(credentials={"access_key": "AKIAOTHER", "secret_key": "other"})
    shown = repr(one) + str(one.request.credentials) + repr(one.request)
    assert all(secret not in shown for secret in SECRETS)
    assert one == other
