"""Domo's status objects and POST body, in the forms its spec and its prose disagree on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from reconciler.providers.domo.wire import parse_record, parse_records, parse_time, request_body
from tests.providers.domo.support import ACCESS_KEY, KMS_KEY, SECRET_KEY, SESSION_TOKEN, entry

INSTANT = datetime(2019, 9, 19, 15, 9, 10, 86000, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2019-09-19T15:09:10.086Z",  # the documentation's examples
        "2019-09-19T17:09:10.086+02:00",
        "2019-09-19T15:09:10.086",  # no zone: UTC
        1568905750086,  # milliseconds since the epoch, as the spec says
        1568905750086.0,
        "1568905750086",  # ... typed as a string, as the spec types it
    ],
)
def test_both_timestamp_forms_read_as_the_same_instant(value: object) -> None:
    assert parse_time(value) == INSTANT


@pytest.mark.parametrize("value", [None, "", "  ", 0, "0", -5, True, "yesterday", {}, 1e300])
def test_unusable_timestamps_read_as_unknown(value: object) -> None:
    assert parse_time(value) is None


@pytest.mark.parametrize(
    "url",
    [
        "s3://acme-exports/domo/sales/E1/export/data.csv.gz",
        "https://acme-exports.s3.us-east-1.amazonaws.com/domo/sales/E1/export/data.csv.gz",
        "https://s3.us-east-1.amazonaws.com/acme-exports/domo/sales/E1/export/data.csv.gz",
        "https://acme-exports.s3.amazonaws.com/domo/sales/E1/export/data.csv.gz?X-Amz-Signature=1",
        "acme-exports/domo/sales/E1/export/data.csv.gz",
    ],
)
def test_the_path_is_read_back_from_any_form_of_file_url(url: str) -> None:
    record = parse_record({"exportId": "E1", "exportStatus": "success", "urlRowCountMap": {url: 7}})
    assert record is not None
    assert record.destination == ("acme-exports", "domo/sales")
    assert record.rows == 7


def test_a_url_row_count_map_sent_as_a_string_is_read_too() -> None:
    files = json.dumps({"s3://b/p/E1/export/data.csv.gz": 3, "s3://b/p/E1/export/data2.csv.gz": 4})
    record = parse_record({"exportId": "E1", "urlRowCountMap": files})
    assert record is not None and record.rows == 7 and len(record.files) == 2


def test_unknown_counts_make_the_total_unknown() -> None:
    record = parse_record({"exportId": "E1", "urlRowCountMap": {"s3://b/p/E1/x": "many"}})
    assert record is not None and record.rows is None


def test_records_without_an_export_id_are_skipped_and_the_rest_sorted_by_start() -> None:
    records = parse_records(
        [
            {"exportId": "late", "started": "2024-01-02T00:00:00Z"},
            "not an object",
            {"exportStatus": "success"},
            {"exportId": "early", "started": 1704067200000},
        ]
    )
    assert [r.export_id for r in records] == ["early", "late"]


def test_the_body_follows_the_prose_query_as_an_object_with_every_credential() -> None:
    body = request_body(
        entry(
            query={"columns": ["Region"], "where": {"exprType": "EQUALS"}}, include_bom=True
        ).request
    )
    assert body == {
        "bucket": "acme-exports",
        "path": "domo/sales",
        "region": "us-east-1",
        "awsAccessKey": ACCESS_KEY,
        "awsAccessSecret": SECRET_KEY,
        "sessionToken": SESSION_TOKEN,
        "awsKmsKey": KMS_KEY,
        "queryRequest": {
            "includeBOM": True,
            "query": {
                "columns": [{"column": "Region", "exprType": "COLUMN"}],
                "groupByColumns": [],
                "orderByColumns": [],
                "where": {"exprType": "EQUALS"},
            },
        },
    }


def test_without_query_or_bom_the_whole_dataset_is_asked_for() -> None:
    assert "queryRequest" not in request_body(entry().request)
    assert request_body(entry(include_bom=True).request)["queryRequest"] == {"includeBOM": True}
