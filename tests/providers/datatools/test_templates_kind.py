"""The template kind's facts: what the server stores, identity, markers, replace, bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.identity import MARKER_VERSION, Marker
from reconciler.model import freeze
from reconciler.providers.datatools import templates
from reconciler.providers.datatools.filters import FilterNote
from reconciler.providers.datatools.kind import TEMPLATES
from reconciler.providers.datatools.templates import TemplateSpec
from reconciler.providers.datatools.wire import Template

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def spec(configuration: dict[str, Any], **fields: Any) -> TemplateSpec:
    entry = {"key": "weekly", "name": "Weekly", "template_type": "user", **fields}
    return templates.template_spec({**entry, "configuration": configuration})


def live(configuration: dict[str, Any], **fields: Any) -> Template:
    values: dict[str, Any] = {
        "id": "t-1",
        "name": "Weekly",
        "description": "",
        "user": "sandbox",
        "template_type": "user",
        "is_active": True,
        "configuration": freeze(configuration),
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Template(**{**values, **fields})


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({"format": "CSV"}, {"format": "csv"}),
        (
            {"format": "json", "filters": {"limit": 0, "columns": [], "order_by": "", "x": 1}},
            {"format": "json", "filters": {}},
        ),
        (
            {"format": "csv", "filters": {"limit": "25", "include_headers": True}},
            {"format": "csv", "filters": {"limit": 25}},
        ),
        (
            {"format": "csv", "filters": {"date_range": {"start": "a", "end": "b"}}},
            {"format": "csv", "filters": {"date_range": {"start": "a", "end": "b"}}},
        ),
        ({"format": "csv", "options": {"sep": ";"}}, {"format": "csv", "options": {"sep": ";"}}),
    ],
)
def test_stored_configuration_follows_the_servers_rules(
    sent: dict[str, Any], stored: dict[str, Any]
) -> None:
    assert templates.stored_configuration(freeze(sent)) == stored


def test_comparable_forms_are_equal_when_the_server_would_store_them_equal() -> None:
    desired = spec({"format": "CSV", "filters": {"bogus": 1}}, name="  Weekly ", description=" x ")
    stored = live({"format": "csv", "filters": {}}, description="x")
    assert templates.comparable(desired) == templates.comparable(stored)
    assert templates.comparable(desired) == {
        "name": "Weekly",
        "description": "x",
        "template_type": "user",
        "configuration": {"format": "csv"},
    }


def test_the_marker_is_not_part_of_the_comparable_form() -> None:
    marked = live({"format": "csv", "exportctl": {"key": "weekly", "applied": "v1:a:b:c"}})
    assert templates.comparable(marked) == templates.comparable(spec({"format": "csv"}))


def test_dropped_keys_name_each_key_the_server_would_drop() -> None:
    desired = spec({"format": "csv", "filters": {"columns": ["a"], "limit": 0, "headers": 1}})
    assert templates.dropped_keys(desired) == [
        FilterNote("configuration.filters.limit", "the server drops an empty value (0)"),
        FilterNote(
            "configuration.filters.headers",
            "the server keeps only columns, where_conditions, limit, order_by, group_by, "
            "date_range",
        ),
    ]
    assert templates.dropped_keys(spec({"format": "csv"})) == []


def test_other_users_templates_are_foreign_and_never_own() -> None:
    mine = live({"format": "csv"})
    system = live({"format": "csv"}, user="system", template_type="system", id="t-2")
    shared = live({"format": "csv"}, user="colleague", template_type="shared", id="t-3")
    assert [templates.is_foreign(t, "sandbox") for t in (mine, system, shared)] == [
        False,
        True,
        True,
    ]
    assert templates.own_templates([system, mine, shared], "sandbox") == [mine]


def test_the_natural_address_is_the_name_as_stored() -> None:
    unmarked = live({"format": "csv"}, name="Weekly ")
    assert TEMPLATES.address(unmarked) == TEMPLATES.address(spec({"format": "json"}))
    assert TEMPLATES.address(spec({"format": "json"}, name="Other")) != TEMPLATES.address(unmarked)


def test_marker_of_reads_the_configuration_marker() -> None:
    marker = {"key": "weekly", "applied": "v1:a:b:c"}
    assert templates.marker_of(live({"format": "csv", "exportctl": marker})) == Marker(
        "weekly", "v1:a:b:c", "a", "b", "c"
    )
    assert templates.marker_of(live({"format": "csv", "exportctl": "weekly"})) is None
    assert templates.marker_of(live({"format": "csv"})) is None


def test_the_marker_hashes_the_comparable_form_with_the_salt() -> None:
    marker = templates.template_marker(spec({"format": "csv"}), "salt1")
    version, salt, spec_digest, secret_digest = marker["applied"].split(":")
    assert (marker["key"], version, salt) == ("weekly", MARKER_VERSION, "salt1")
    assert (len(spec_digest), secret_digest) == (16, "n")  # no secret in a csv template
    same = templates.template_marker(spec({"format": "CSV", "filters": {}}), "salt1")
    other = templates.template_marker(spec({"format": "json"}), "salt1")
    assert same == marker  # stored alike, hashed alike
    assert other["applied"] != marker["applied"]
    with pytest.raises(ValueError, match="salt"):
        templates.template_marker(spec({"format": "csv"}), "a:b")


def test_removing_a_top_level_configuration_key_needs_a_replace() -> None:
    stored = live({"format": "csv", "options": {"sep": ";"}, "include_headers": True})
    reasons = templates.replace_reasons(spec({"format": "csv"}), stored)
    assert reasons == (
        "configuration.include_headers is not in the manifest: an update merges "
        "configuration one level deep and cannot remove a key",
        "configuration.options is not in the manifest: an update merges configuration "
        "one level deep and cannot remove a key",
    )


def test_filters_and_the_marker_never_force_a_replace() -> None:
    stored = live({"format": "csv", "filters": {"limit": 5}, "exportctl": {"key": "weekly"}})
    assert templates.replace_reasons(spec({"format": "json"}), stored) == ()


def test_a_changed_template_type_needs_a_replace() -> None:
    reasons = templates.replace_reasons(spec({"format": "csv"}, template_type="shared"), live({}))
    assert reasons == (
        "template_type cannot change from 'user' to 'shared': the server ignores it on update",
    )


def test_bodies_carry_the_marker_and_an_update_always_sends_filters() -> None:
    desired = spec({"format": "CSV"}, description="d")
    marker = {"key": "weekly", "applied": "v1:s:a:b"}
    assert templates.create_body(desired, marker) == {
        "name": "Weekly",
        "description": "d",
        "template_type": "user",
        "is_active": True,
        "configuration": {"format": "CSV", "exportctl": marker},
    }
    assert templates.update_body(desired, marker) == {
        "name": "Weekly",
        "description": "d",
        "is_active": True,
        "configuration": {"filters": {}, "format": "CSV", "exportctl": marker},
    }
