"""Listing: paging over 250 exports, every filter, sort and fields preset."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.providers.mammoth.model import DataviewRef
from reconciler.providers.mammoth.sandbox.listing import FIELD_PRESETS
from reconciler.providers.mammoth.sandbox.seed import add_exports
from reconciler.sandbox.config import SandboxConfig
from tests.providers.mammoth.sandbox.api import EXPORTS, client
from tests.sandboxes import RunningSandbox, serve_in_thread

REF = DataviewRef(1, 1, 123, 456)


def _seed(server: RunningSandbox, count: int) -> list[int]:
    bodies = [
        {"handler_type": "s3", "trigger_type": "none", "target_properties": {"file": f"f{i}.csv"}}
        for i in range(count)
    ]
    return add_exports(server.store, REF, bodies)


def test_paging_by_next_visits_all_250_exports_once(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 250)
    seen: list[int] = []
    with client(sandbox) as api:
        url: str = EXPORTS + "?limit=100&fields=__min"
        pages = 0
        while url:
            page = api.get(url).json()
            seen.extend(e["id"] for e in page["exports"])
            assert set(page["exports"][0]) == set(FIELD_PRESETS["__min"])
            url = page["next"]
            pages += 1
    assert seen == ids
    assert pages == 3


def test_paging_by_offset_and_the_last_page(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 250)
    with client(sandbox) as api:
        pages = [api.get(EXPORTS, params={"limit": 100, "offset": o}).json() for o in (0, 100, 200)]
        beyond = api.get(EXPORTS, params={"limit": 100, "offset": 250}).json()
    assert [e["id"] for p in pages for e in p["exports"]] == ids
    assert [(p["limit"], p["offset"], len(p["exports"])) for p in pages] == [
        (100, 0, 100),
        (100, 100, 100),
        (100, 200, 50),
    ]
    assert pages[0]["next"].endswith(EXPORTS + "?limit=100&offset=100")
    assert pages[2]["next"] == ""
    assert beyond["exports"] == [] and beyond["next"] == ""


def test_defaults_are_limit_50_standard_fields_id_order(sandbox: RunningSandbox) -> None:
    ids = _seed(sandbox, 60)
    with client(sandbox) as api:
        page = api.get(EXPORTS).json()
    assert [e["id"] for e in page["exports"]] == ids[:50]
    assert list(page["exports"][0]) == list(FIELD_PRESETS["__standard"])
    assert page["limit"] == 50 and page["offset"] == 0
    assert "limit=50&offset=50" in page["next"]


def test_limit_zero_returns_no_items(sandbox: RunningSandbox) -> None:
    _seed(sandbox, 3)
    with client(sandbox) as api:
        page = api.get(EXPORTS, params={"limit": 0}).json()
    assert page == {"exports": [], "offset": 0, "next": ""}


def test_next_keeps_the_query(sandbox: RunningSandbox) -> None:
    _seed(sandbox, 5)
    with client(sandbox) as api:
        page = api.get(EXPORTS, params={"limit": 2, "sort": "(id:desc)", "fields": "id"}).json()
        second = api.get(page["next"]).json()
    assert [e["id"] for e in page["exports"]] == [5, 4]
    assert second["exports"] == [{"id": 3}, {"id": 2}]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"limit": 101}, "query parameter limit: must be an integer between 0 and 100, got 101"),
        ({"limit": -1}, "query parameter limit: must be an integer between 0 and 100, got -1"),
        ({"limit": "x"}, "query parameter limit: must be an integer between 0 and 100, got 'x'"),
        ({"offset": -1}, "query parameter offset: must be an integer 0 or more, got -1"),
        (
            {"sort": "(name:asc)"},
            "query parameter sort: cannot sort by 'name'; use one of "
            "id, dataview_id, sequence, sub_sequence, handler_type, trigger_type, end_of_pipeline, "
            "status, runnable, reordered, data_pass_through, last_modified_time, "
            "execution_start_time, execution_end_time",
        ),
        ({"sort": "(id:up)"}, "query parameter sort: direction must be asc or desc, got 'up'"),
        (
            {"sort": "id"},
            "query parameter sort: expected terms like (sequence:desc),(id:asc); got 'id'",
        ),
        (
            {"status": "gone"},
            "query parameter status: must be one of deleted, executed, "
            "executing, edited, added, suspended, suspending; got 'gone'",
        ),
        ({"reorderd": "maybe"}, "query parameter reorderd: must be true or false, got 'maybe'"),
        ({"runnable": "2"}, "query parameter runnable: must be true or false, got '2'"),
        (
            {"sequence": "first"},
            "query parameter sequence: must be an integer between "
            f"{-(2**62)} and {2**62}, got 'first'",
        ),
    ],
)
def test_bad_query_parameters_are_400(
    mixed: RunningSandbox, params: dict[str, Any], detail: str
) -> None:
    with client(mixed) as api:
        response = api.get(EXPORTS, params=params)
    assert response.status_code == 400
    assert response.json()["message"] == detail
    assert response.json()["extra"][0]["source"] == "query"


def test_unknown_field_is_400(mixed: RunningSandbox) -> None:
    with client(mixed) as api:
        response = api.get(EXPORTS, params={"fields": "id,colour"})
        single = api.get(EXPORTS + "/1", params={"fields": "colour"})
    assert response.status_code == single.status_code == 400
    assert response.json()["message"].startswith("query parameter fields: unknown field 'colour'")


@pytest.mark.parametrize("preset", ["__min", "__standard", "__full"])
def test_field_presets_are_the_specs_lists(mixed: RunningSandbox, preset: str) -> None:
    with client(mixed) as api:
        listed = api.get(EXPORTS, params={"fields": preset}).json()["exports"][0]
        single = api.get(EXPORTS + "/1", params={"fields": preset}).json()
    assert list(listed) == list(single) == list(FIELD_PRESETS[preset])


def test_field_list_picks_exactly_those(mixed: RunningSandbox) -> None:
    with client(mixed) as api:
        export = api.get(EXPORTS, params={"fields": "sequence,status"}).json()["exports"][0]
    assert export == {"sequence": 2, "status": "suspended"}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """Five exports: two suspended, one deleted, one not at the pipeline's end, one moved.

    Read-only tests share it: one server for the whole filter and sort table.
    """
    with serve_in_thread(tmp_path_factory.mktemp("mixed") / "s.db", SandboxConfig()) as server:
        _make_mixed(server)
        yield server


def _make_mixed(server: RunningSandbox) -> None:
    _seed(server, 4)
    with client(server) as api:
        api.post(
            EXPORTS,
            json={
                "DATAVIEW_ID": 456,
                "handler_type": "internal_dataset",
                "trigger_type": "pipeline",
                "run_immediately": True,
                "end_of_pipeline": False,
                "sequence": 1,
                "target_properties": {"dataset_name": "copy"},
            },
        )
        for export_id in (1, 2):
            api.patch(
                EXPORTS + f"/{export_id}", json={"patches": [{"op": "command", "path": "suspend"}]}
            )
        api.delete(EXPORTS + "/3")


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"status": "suspended"}, [1, 2]),
        ({"status": "deleted"}, [3]),
        ({"status": "executed"}, [5]),
        ({"runnable": "false"}, [1, 2, 3]),
        ({"runnable": "true"}, [4, 5]),
        ({"end_of_pipeline": "false"}, [5]),
        ({"handler_type": "internal_dataset"}, [5]),
        ({"handler_type": "s3", "runnable": "true"}, [4]),
        ({"reorderd": "false"}, [5]),
        ({"reorderd": "true"}, [1, 2, 3, 4]),
        ({"sequence": 1}, [5]),
        ({"sequence": 4}, [4]),
    ],
)
def test_filters(mixed: RunningSandbox, params: dict[str, Any], ids: list[int]) -> None:
    with client(mixed) as api:
        page = api.get(EXPORTS, params={**params, "fields": "id"}).json()
    assert [e["id"] for e in page["exports"]] == ids


@pytest.mark.parametrize(
    ("sort", "ids"),
    [
        ("(id:desc)", [5, 4, 3, 2, 1]),
        ("(sequence:asc)", [3, 5, 1, 2, 4]),
        ("(sequence:desc),(id:asc)", [4, 2, 1, 5, 3]),
        ("(status:asc),(id:desc)", [4, 3, 5, 2, 1]),
        ("(handler_type:desc)", [1, 2, 3, 4, 5]),
        ("(runnable:desc),(id:asc)", [4, 5, 1, 2, 3]),
    ],
)
def test_sort(mixed: RunningSandbox, sort: str, ids: list[int]) -> None:
    with client(mixed) as api:
        page = api.get(EXPORTS, params={"sort": sort, "fields": "id"}).json()
    assert [e["id"] for e in page["exports"]] == ids
