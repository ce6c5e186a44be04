"""Add, edit, patch and delete: statuses, validation, sequences, masking, server rules."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.providers.mammoth import handlers
from tests.providers.mammoth.sandbox.api import EXPORTS, add_body, client, make_dataview
from tests.sandboxes import RunningSandbox


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    make_dataview(sandbox)
    with client(sandbox) as http:
        yield http


def _layout(api: httpx.Client) -> list[tuple[int, int | None, str]]:
    page = api.get(EXPORTS, params={"sort": "(id:asc)", "fields": "id,sequence,status"}).json()
    return [(e["id"], e["sequence"], e["status"]) for e in page["exports"]]


def test_add_fills_in_the_handlers_defaults(api: httpx.Client) -> None:
    response = api.post(EXPORTS, json=add_body("a.csv"))
    assert response.status_code == 201
    assert response.json() == {"trigger_id": 1, "status": "added", "future_id": None}
    export = api.get(EXPORTS + "/1", params={"fields": "__full"}).json()
    assert export["target_properties"] == {"file": "a.csv", **handlers.target_defaults("s3")}
    assert (export["runnable"], export["execution_start_time"]) == (True, None)


def test_run_immediately_executes(api: httpx.Client) -> None:
    response = api.post(EXPORTS, json=add_body(run_immediately=True))
    assert response.json()["status"] == "executed"
    export = api.get(EXPORTS + "/1", params={"fields": "__full"}).json()
    assert export["execution_start_time"] is not None
    assert export["last_run_result"] == {"status": "success"}


_BAD_ADDS: list[tuple[dict[str, Any], str]] = [
    (
        {"handler_type": "fax"},
        "AddExportSpec: handler_type must be one of "
        + ", ".join(handlers.HANDLER_TYPES)
        + "; got 'fax'",
    ),
    (
        {"trigger_type": "hourly"},
        "AddExportSpec: trigger_type must be one of none, pipeline, schedule; got 'hourly'",
    ),
    ({"run_immediately": None}, "AddExportSpec: run_immediately must be true or false"),
    ({"DATAVIEW_ID": 7}, "AddExportSpec: DATAVIEW_ID is 7 but the URL names dataview 456"),
    ({"colour": "red"}, "AddExportSpec: colour is not a field of AddExportSpec"),
    ({"sequence": 0}, "AddExportSpec: sequence must be 1 or more (1 is the first position)"),
    (
        {"target_properties": {}},
        "AddExportSpec: target_properties is invalid for handler s3: 'file' is a required property",
    ),
    (
        {"target_properties": {"file": "a", "file_type": "doc"}},
        "AddExportSpec: "
        "target_properties.file_type is invalid for handler s3: 'doc' is not one of "
        "['csv', 'json', 'xlsx', 'tsv', 'parquet']",
    ),
    ({"condition": []}, "AddExportSpec: condition must be an object"),
]


@pytest.mark.parametrize(("change", "detail"), _BAD_ADDS)
def test_invalid_add_is_400(api: httpx.Client, change: dict[str, Any], detail: str) -> None:
    response = api.post(EXPORTS, json=add_body(**change))
    assert response.status_code == 400
    assert response.json()["message"] == detail


def test_missing_required_field_is_400(api: httpx.Client) -> None:
    body = add_body()
    del body["trigger_type"]
    assert (
        api.post(EXPORTS, json=body).json()["message"] == "AddExportSpec: trigger_type is required"
    )


def test_edit_by_trigger_id_replaces_the_spec(api: httpx.Client) -> None:
    api.post(EXPORTS, json=add_body("a.csv", condition={"x": 1}))
    response = api.post(EXPORTS, json=add_body("b.csv", TRIGGER_ID=1, trigger_type="pipeline"))
    assert response.status_code == 201
    assert response.json() == {"trigger_id": 1, "status": "edited", "future_id": None}
    export = api.get(EXPORTS + "/1").json()
    assert (export["target_properties"]["file"], export["trigger_type"]) == ("b.csv", "pipeline")
    assert export["condition"] == {}


def test_edit_cannot_change_handler_type(api: httpx.Client) -> None:
    api.post(EXPORTS, json=add_body())
    body = add_body(
        TRIGGER_ID=1, handler_type="internal_dataset", target_properties={"dataset_name": "d"}
    )
    response = api.post(EXPORTS, json=body)
    assert response.status_code == 400
    assert response.json()["message"] == (
        "export 1 is a s3 export; an edit cannot change handler_type to internal_dataset: "
        "delete it and add a new export"
    )


def test_edit_of_unknown_export_is_404(api: httpx.Client) -> None:
    response = api.post(EXPORTS, json=add_body(TRIGGER_ID=42))
    assert response.status_code == 404
    assert response.json()["message"] == "export 42 does not exist in dataview 1/1/123/456"


def _patch(api: httpx.Client, export_id: int, path: str, value: Any = None) -> httpx.Response:
    op = "replace" if path == "params" else "command"
    return api.patch(
        EXPORTS + f"/{export_id}", json={"patches": [{"op": op, "path": path, "value": value}]}
    )


def test_patch_suspend_restore_run(api: httpx.Client) -> None:
    api.post(EXPORTS, json=add_body())
    assert _patch(api, 1, "suspend").json() == {
        "trigger_id": 1,
        "status": "suspended",
        "future_id": None,
    }
    assert api.get(EXPORTS + "/1").json()["runnable"] is False
    run = _patch(api, 1, "run")
    assert run.status_code == 400
    assert run.json()["message"] == "export 1 is suspended: restore it before running it"
    assert _patch(api, 1, "restore").json()["status"] == "added"
    assert api.get(EXPORTS + "/1").json()["runnable"] is True
    assert _patch(api, 1, "run").json()["status"] == "executed"


def test_patch_params_edits_and_discard_deletes(api: httpx.Client) -> None:
    api.post(EXPORTS, json=add_body("a.csv"))
    edited = _patch(api, 1, "params", add_body("c.csv"))
    assert edited.status_code == 200 and edited.json()["status"] == "edited"
    assert api.get(EXPORTS + "/1").json()["target_properties"]["file"] == "c.csv"
    assert _patch(api, 1, "discard").json()["status"] == "deleted"
    assert _patch(api, 1, "run").status_code == 404


def test_editing_a_suspended_export_keeps_it_suspended(api: httpx.Client) -> None:
    api.post(EXPORTS, json=add_body("a.csv"))
    _patch(api, 1, "suspend")
    assert _patch(api, 1, "params", add_body("z.csv")).json()["status"] == "suspended"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "ExportPatch: the body must be an object with a 'patches' list"),
        ({"patches": []}, "ExportPatch: 'patches' is empty; send at least one patch"),
        (
            {"patches": [{"op": "command", "path": "explode"}]},
            "patches[0]: path must be one of run, suspend, restore, discard, params; got 'explode'",
        ),
        (
            {"patches": [{"op": "poke", "path": "run"}]},
            "patches[0]: op must be one of replace, command; got 'poke'",
        ),
        (
            {"patches": [{"op": "replace", "path": "params"}]},
            "patches[0]: value must be an AddExportSpec for path 'params'",
        ),
    ],
)
def test_invalid_patch_is_400(api: httpx.Client, body: dict[str, Any], detail: str) -> None:
    api.post(EXPORTS, json=add_body())
    response = api.patch(EXPORTS + "/1", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == detail


def test_delete_keeps_the_export_listed_as_deleted(api: httpx.Client) -> None:
    api.post(EXPORTS, json=add_body())
    response = api.delete(EXPORTS + "/1")
    assert response.status_code == 200
    assert response.json() == {"trigger_id": 1, "status": "deleted", "future_id": None}
    assert _layout(api) == [(1, None, "deleted")]
    again = api.delete(EXPORTS + "/1")
    assert again.status_code == 404
    assert again.json()["message"] == "export 1 was deleted in dataview 1/1/123/456"


def test_sequences_insert_move_and_close_gaps(api: httpx.Client) -> None:
    for name in "abc":
        api.post(EXPORTS, json=add_body(f"{name}.csv"))
    assert [s for _, s, _ in _layout(api)] == [1, 2, 3]
    api.post(EXPORTS, json=add_body("d.csv", sequence=2))
    assert [s for _, s, _ in _layout(api)] == [1, 3, 4, 2]
    api.post(EXPORTS, json=add_body("a.csv", TRIGGER_ID=1, sequence=4))
    assert [s for _, s, _ in _layout(api)] == [4, 2, 3, 1]
    api.delete(EXPORTS + "/4")
    assert [s for _, s, _ in _layout(api)] == [3, 1, 2, None]
    api.post(EXPORTS, json=add_body("e.csv", sequence=99))
    assert [s for _, s, _ in _layout(api)] == [3, 1, 2, None, 4]


def test_secret_fields_are_masked_in_every_answer(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    target = {"host": "pg", "database": "d", "table": "t", "username": "u", "password": "hunter2"}
    body = add_body(handler_type="postgres", target_properties=target)
    created = api.post(EXPORTS, json=body)
    assert created.status_code == 201, created.text
    for params in ({"fields": "__full"}, {"fields": "__min"}):
        listed = api.get(EXPORTS, params=params).json()["exports"][0]
        assert listed["target_properties"]["password"] == handlers.MASK
        single = api.get(EXPORTS + "/1", params=params)
        assert "hunter2" not in single.text
    # Sending the mask back keeps the stored secret.
    api.post(
        EXPORTS,
        json={**body, "TRIGGER_ID": 1, "target_properties": {**target, "password": handlers.MASK}},
    )
    with sqlite3.connect(sandbox.store.path) as db:
        stored = db.execute("SELECT target_properties FROM exports").fetchone()[0]
    assert "hunter2" in stored


@pytest.mark.parametrize(
    ("first", "second", "detail"),
    [
        (
            add_body("same.csv"),
            add_body("same.csv"),
            "target_properties.file 'same.csv' is already used by export 1 of this dataview "
            "(dataview 456); choose another file",
        ),
        (
            add_body(handler_type="internal_dataset", target_properties={"dataset_name": "ds"}),
            add_body(handler_type="internal_dataset", target_properties={"dataset_name": "ds"}),
            "target_properties.dataset_name 'ds' is already used by export 1 of this project "
            "(dataview 456); choose another dataset_name",
        ),
        (
            add_body("x.csv"),
            add_body(
                handler_type="powerbi",
                target_properties={"connection_id": "nope", "dataset_name": "d", "table_name": "t"},
            ),
            "target_properties.connection_id 'nope' is not a known connection (known: none); "
            "create the connection in Mammoth first",
        ),
    ],
)
def test_server_rules_refuse_clashes_even_when_only_validating(
    api: httpx.Client, first: dict[str, Any], second: dict[str, Any], detail: str
) -> None:
    assert api.post(EXPORTS, json=first).status_code == 201
    for body in (second, {**second, "validate_only": True}):
        response = api.post(EXPORTS, json=body)
        assert response.status_code == 400
        assert response.json()["message"] == detail


def test_a_deleted_export_frees_its_file(api: httpx.Client) -> None:
    api.post(EXPORTS, json=add_body("same.csv"))
    api.delete(EXPORTS + "/1")
    assert api.post(EXPORTS, json=add_body("same.csv")).status_code == 201


def _dump(sandbox: RunningSandbox) -> list[str]:
    with sqlite3.connect(sandbox.store.path) as db:
        return list(db.iterdump())


def test_validate_only_leaves_no_trace(sandbox: RunningSandbox, api: httpx.Client) -> None:
    api.post(EXPORTS, json=add_body("a.csv"))
    before = _dump(sandbox)
    added = api.post(EXPORTS, json=add_body("b.csv", sequence=1, validate_only=True))
    edited = api.post(EXPORTS, json=add_body("z.csv", TRIGGER_ID=1, validate_only=True))
    patched = _patch(api, 1, "params", add_body("y.csv", validate_only=True))
    assert (added.status_code, edited.status_code, patched.status_code) == (201, 201, 200)
    assert added.json() == {"trigger_id": 0, "status": None, "future_id": None}
    assert edited.json() == {"trigger_id": 1, "status": None, "future_id": None}
    assert _dump(sandbox) == before
    assert api.post(EXPORTS, json=add_body("b.csv")).json()["trigger_id"] == 2
