"""Templates through the client and the sandbox: CRUD, the merge quirk, ownership, 400s."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import ApiError, AuthError, NotFoundError
from reconciler.providers.datatools import templates
from reconciler.providers.datatools.client import DatatoolsClient
from reconciler.providers.datatools.kind import TEMPLATES
from reconciler.providers.datatools.templates import TemplateSpec
from reconciler.providers.datatools.wire import Template
from tests.providers.datatools.support import Browser, Site, run

SALT = "s4lt"


def spec(name: str = "Weekly", key: str = "weekly", **fields: Any) -> TemplateSpec:
    entry = {"key": key, "name": name, "template_type": "user", **fields}
    entry.setdefault("configuration", {"format": "csv"})
    return templates.template_spec(entry)


async def create(client: DatatoolsClient, desired: TemplateSpec) -> Template:
    marker = templates.template_marker(desired, SALT)
    return await client.create_template(templates.create_body(desired, marker), key=desired.key)


async def update(client: DatatoolsClient, live: Template, desired: TemplateSpec) -> Template:
    body = templates.update_body(desired, templates.template_marker(desired, SALT))
    return await client.update_template(live.id, body, key=desired.key)


def test_create_list_update_delete(site: Site) -> None:
    desired = spec(configuration={"format": "CSV", "filters": {"limit": 10, "x": 1}})

    async def use() -> None:
        async with site.client() as client:
            created = await create(client, desired)
            assert templates.comparable(created) == templates.comparable(desired)
            marker = templates.marker_of(created)
            assert marker is not None
            assert marker.applied == templates.template_marker(desired, SALT)["applied"]
            assert await client.list_own_templates() == [created]
            renamed = spec("Weekly v2", configuration={"format": "json"}, description="new")
            updated = await update(client, created, renamed)
            assert (updated.id, updated.name, updated.description) == (
                created.id,
                "Weekly v2",
                "new",
            )
            assert templates.comparable(updated) == templates.comparable(renamed)
            await client.delete_template(created.id, key="weekly")
            assert await client.list_own_templates() == []
            with pytest.raises(NotFoundError, match=f"export template {created.id} does not exist"):
                await client.delete_template(created.id, key="weekly")

    run(use())


def test_an_update_clears_filters_but_cannot_remove_options(site: Site) -> None:
    first = spec(configuration={"format": "csv", "filters": {"limit": 5}, "options": {"sep": ";"}})
    second = spec(configuration={"format": "csv"})

    async def use() -> None:
        async with site.client() as client:
            live = await create(client, first)
            after = await update(client, live, second)
            assert after.configuration.get("filters") == {}  # cleared in place
            assert after.configuration["options"] == {"sep": ";"}  # the merge kept it
            assert templates.comparable(after) != templates.comparable(second)
            assert templates.replace_reasons(second, after) == (
                "configuration.options is not in the manifest: an update merges "
                "configuration one level deep and cannot remove a key",
            )

    run(use())


def test_other_users_templates_are_never_returned_as_ours(site: Site) -> None:
    async def use() -> list[str]:
        async with site.client() as client:
            await create(client, spec("CSV - Full Export"))  # a system template's name, ours too
            return [t.user + ":" + t.name for t in await client.list_own_templates()]

    with Browser(site) as colleague:  # the colleague adds one more, shared with everyone
        colleague.log_in("colleague", "colleague")
        body = {
            "name": "Also shared",
            "template_type": "shared",
            "configuration": {"format": "csv"},
        }
        assert (
            colleague.write("POST", "/tools/api/v1/export-templates/", json=body).status_code == 201
        )
    assert run(use()) == ["sandbox:CSV - Full Export"]


def test_a_duplicate_name_is_explained(site: Site) -> None:
    async def use() -> None:
        async with site.client() as client:
            first = await create(client, spec())
            with pytest.raises(ApiError) as caught:
                await create(client, spec(key="other"))
            assert caught.value.message == (
                "Could not create an export template (manifest key 'other'): the API answered "
                "400: Error creating export template. User 'sandbox' already has a template "
                f"named 'Weekly' (id {first.id}); names are unique per user."
            )

    run(use())


def test_a_name_taken_by_a_deactivated_template_is_hinted_at(site: Site) -> None:
    async def use() -> None:
        async with site.client() as client:
            live = await create(client, spec())
            await client.update_template(live.id, {"is_active": False})
            assert await client.list_own_templates() == []
            assert (await client.get_template(live.id)).is_active is False
            with pytest.raises(ApiError, match="no deactivated template named 'Weekly' exists"):
                await create(client, spec())

    run(use())


def test_an_invalid_update_and_an_update_of_a_gone_template(site: Site) -> None:
    async def use() -> None:
        async with site.client() as client:
            live = await create(client, spec())
            with pytest.raises(ApiError) as caught:
                await client.update_template(live.id, {"description": None}, key="weekly")
            assert not isinstance(caught.value, NotFoundError)
            assert "Error updating export template" in caught.value.message
            await client.delete_template(live.id)
            with pytest.raises(NotFoundError):
                await update(client, live, spec())

    run(use())


def test_another_users_template_is_refused_as_theirs_not_as_bad_credentials(site: Site) -> None:
    async def use() -> None:
        async with site.client() as client:
            async with site.client("colleague", "colleague") as colleague:
                theirs = await create(colleague, spec("Theirs"))
            with pytest.raises(ApiError) as caught:
                await client.update_template(theirs.id, {"name": "Mine"})
            assert not isinstance(caught.value, AuthError)
            assert caught.value.status_code == 403
            assert caught.value.message.endswith(
                "the API answered 403: You do not have permission to modify this template. "
                "Only its owner may change it."
            )
            with pytest.raises(NotFoundError, match="not visible to user 'sandbox'"):
                await client.get_template(theirs.id)

    run(use())


def test_an_unmarked_template_made_by_hand_has_the_specs_address(site: Site) -> None:
    with Browser(site) as browser:
        browser.log_in()
        body = {"name": "Weekly", "configuration": {"format": "csv"}}
        assert (
            browser.write("POST", "/tools/api/v1/export-templates/", json=body).status_code == 201
        )

    async def use() -> list[Template]:
        async with site.client() as client:
            return await client.list_own_templates()

    [found] = run(use())
    assert TEMPLATES.marker(found) is None
    assert TEMPLATES.address(found) == TEMPLATES.address(spec())


# Configurations the manifest schema accepts, with what the server drops or rewrites.
_FORMATS = st.sampled_from(["csv", "CSV", "Json", "parquet", "EXCEL"])
_TEXT = st.text(max_size=8)
_FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "columns": st.lists(_TEXT, max_size=3),
        "where_conditions": st.lists(st.dictionaries(_TEXT, st.integers(), max_size=2), max_size=2),
        "limit": st.integers(0, 10_000),
        "order_by": _TEXT,
        "group_by": _TEXT,
        "date_range": st.fixed_dictionaries({"start": _TEXT, "end": _TEXT}),
        "include_headers": st.booleans(),
        "offset": st.integers(0, 5),
    },
)
_CONFIGURATIONS = st.fixed_dictionaries(
    {"format": _FORMATS},
    optional={"filters": _FILTERS, "options": st.dictionaries(_TEXT, _TEXT, max_size=3)},
)


def test_normalization_equals_what_the_sandbox_stores(site: Site) -> None:
    """normalize(spec) == normalize(what the server stored after create), for any spec."""

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(configuration=_CONFIGURATIONS, description=_TEXT)
    def check(configuration: dict[str, Any], description: str) -> None:
        desired = spec(f"t-{uuid.uuid4()}", configuration=configuration, description=description)

        async def use() -> Template:
            async with site.client() as client:
                return await create(client, desired)

        stored = run(use())
        assert templates.comparable(stored) == templates.comparable(desired)
        assert stored.configuration["format"] == configuration["format"].lower()

    check()
