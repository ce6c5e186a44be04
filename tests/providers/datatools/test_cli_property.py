"""Property: for any live templates and any manifest, ``apply`` then ``plan`` shows no changes.

Live states mix templates exportctl marked (for keys in and out of the
manifest, with other configurations, names and types), unmarked ones of the
manifest's names (adopted) and others (unmanaged); manifests vary formats
(in any case), filters the server drops, options, types and the prune mode.
Names follow keys, so no state asks for two templates of one name (the
server refuses that, whatever the order of the writes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.providers.datatools.templates import create_body, template_marker, template_spec
from tests.providers.datatools.cli_support import Cli, output, socket_cli
from tests.providers.datatools.support import Site

KEYS = ("a", "b", "c", "d")
_CONFIGURATIONS = st.fixed_dictionaries(
    {"format": st.sampled_from(["csv", "CSV", "Json", "parquet"])},
    optional={
        "filters": st.sampled_from(
            [{"columns": ["region"]}, {"limit": 0}, {"dropped": 1}, {"limit": 5, "x": [1]}]
        ),
        "options": st.sampled_from([{"delimiter": ";"}, {"indent": 2}]),
    },
)
_TYPES = st.sampled_from(["user", "shared"])


def _entry(key: str, configuration: dict[str, Any], kind: str, renamed: bool) -> dict[str, Any]:
    name = f"Name {key}" + (" (old)" if renamed else "")
    return {"key": key, "name": name, "template_type": kind, "configuration": configuration}


_DESIRED = st.lists(
    st.tuples(st.sampled_from(KEYS), _CONFIGURATIONS, _TYPES), unique_by=lambda t: t[0], max_size=3
).map(lambda items: [_entry(k, c, t, False) for k, c, t in items])
_MARKED = st.lists(
    st.tuples(st.sampled_from(KEYS), _CONFIGURATIONS, _TYPES, st.booleans()),
    unique_by=lambda t: t[0],
    max_size=3,
)
_UNMARKED = st.lists(
    st.tuples(st.sampled_from([*KEYS, "hand-1", "hand-2"]), _CONFIGURATIONS),
    unique_by=lambda t: t[0],
    max_size=3,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("property")


def _reset(site: Site, marked: list[Any], unmarked: list[Any]) -> None:
    """Leave exactly the generated live templates (of the login user)."""

    async def use() -> None:
        async with site.client() as client:
            for template in await client.list_own_templates():
                await client.delete_template(template.id)
            marked_keys = set()
            for key, configuration, kind, renamed in marked:
                spec = template_spec(_entry(key, configuration, kind, renamed))
                await client.create_template(create_body(spec, template_marker(spec, "s1")))
                marked_keys.add(key)
            for key, configuration in unmarked:
                if key in marked_keys:
                    continue  # its name is taken by a marked template, or will be
                name = f"Name {key}" if key in KEYS else f"Hand {key}"
                await client.create_template({"name": name, "configuration": configuration})

    asyncio.run(use())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    desired=_DESIRED,
    marked=_MARKED,
    unmarked=_UNMARKED,
    prune=st.sampled_from(["managed", "all", "none"]),
)
def test_apply_then_plan_shows_no_changes(
    shared_site: Site,
    folder: Path,
    desired: list[dict[str, Any]],
    marked: list[Any],
    unmarked: list[Any],
    prune: str,
) -> None:
    _reset(shared_site, marked, unmarked)
    cli: Cli = socket_cli(shared_site, folder)
    cli.write(desired, prune=prune)
    applied = cli.apply()
    assert applied.exit_code == 0, output(applied)
    again = cli("plan", "--detailed-exitcode")
    assert again.exit_code == 0, output(applied) + output(again)
