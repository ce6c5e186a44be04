"""Parsing Mailgun's export records, in the shapes the docs and the Go mock show."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.providers.mailgun.wire import (
    Export,
    created_at,
    parse_created,
    parse_export,
    parse_items,
)

DOCS_SAMPLE = {"id": "57b2085d7cedb2684815e08c", "status": "requested", "url": "domains"}


def test_an_export_from_the_docs_sample() -> None:
    assert parse_export(DOCS_SAMPLE) == Export("57b2085d7cedb2684815e08c", "requested", "domains")


def test_a_list_keeps_the_servers_order_and_reads_null_items_as_empty() -> None:
    second = {"id": "1", "status": "complete", "url": "/domains"}
    assert parse_items({"items": [DOCS_SAMPLE, second]})[1] == Export("1", "complete", "/domains")
    assert parse_items({"items": None}) == ()
    assert parse_items({"items": []}) == ()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "no 'items'"),
        ({"message": "hi"}, "no 'items'"),
        ({"items": {}}, "not a list"),
        ({"items": ["x"]}, "not a JSON object"),
        ({"items": [{"id": 1, "status": "complete", "url": "d"}]}, "no text 'id'"),
        ({"items": [{"id": "1", "url": "d"}]}, "no text 'status'"),
    ],
)
def test_a_list_of_the_wrong_shape_says_what_is_wrong(body: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_items(body)


def test_a_create_answer_may_name_no_export() -> None:
    assert parse_created(DOCS_SAMPLE) == parse_export(DOCS_SAMPLE)
    assert parse_created({"message": "success"}) is None  # the Go mock's answer
    assert parse_created(None) is None


def test_an_object_id_tells_when_it_was_made() -> None:
    assert created_at("57b2085d7cedb2684815e08c") == 0x57B2085D  # 2016-08-15, the docs' time
    assert created_at("57B2085D7CEDB2684815E08C") == 0x57B2085D
    assert created_at("0") is None
    assert created_at("57b2085d7cedb2684815e08") is None  # 23 digits
    assert created_at("57b2085d7cedb2684815e08z") is None
