"""Test helpers: an httpx client for the sandbox that checks every answer's body.

Each response is validated against ``schemas/api/*.json`` by route and status,
so every test that talks to the sandbox also checks the API's shapes.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from tests.conftest import SANDBOX_HEADERS
from tests.sandboxes import RunningSandbox

SCHEMA_DIR = Path(__file__).resolve().parents[4] / "schemas" / "api"
EXPORTS = "/workspaces/1/projects/1/datasets/123/dataviews/456/pipeline/exports"
DATAVIEW = {"workspace_id": 1, "project_id": 1, "dataset_id": 123, "dataview_id": 456}

_COLLECTION = re.compile(
    r"/api/v2/workspaces/\d+/projects/\d+/datasets/\d+/dataviews/\d+/pipeline/exports$"
)
_ITEM = re.compile(_COLLECTION.pattern[:-1] + r"/\d+$")


def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


_REGISTRY = _registry()
# Building an SSL context costs ~0.1 s; httpx would build one per client.
_SSL_CONTEXT = ssl.create_default_context()


def schema_name(method: str, path: str, status: int) -> str | None:
    """Which schemas/api file an answer must match; None for admin routes."""
    if not path.startswith("/api/v2"):
        return None
    if status >= 400:
        return "error"
    if status == 202:
        return "job_response"
    if path == "/api/v2/jobs":
        return "jobs"
    if path.startswith("/api/v2/jobs/"):
        return "job_response"
    if method == "GET":
        return "export_list" if _COLLECTION.search(path) else "export"
    assert _COLLECTION.search(path) or _ITEM.search(path), path
    return "modification"


def validate_response(response: httpx.Response) -> None:
    response.read()
    name = schema_name(response.request.method, response.request.url.path, response.status_code)
    if name is None:
        return
    _validator(name).validate(response.json())


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = _REGISTRY.contents(f"https://exportctl.dev/schemas/api/{name}.json")
    return Draft202012Validator(schema, registry=_REGISTRY, format_checker=FormatChecker())


def client(server: RunningSandbox, headers: Mapping[str, str] | None = None) -> httpx.Client:
    """A keep-alive client on the API base URL, checking every answer's body."""
    return httpx.Client(
        base_url=server.base_url,
        headers=dict(SANDBOX_HEADERS if headers is None else headers),
        event_hooks={"response": [validate_response]},
        timeout=10,
        verify=_SSL_CONTEXT,
    )


def admin(server: RunningSandbox, method: str, path: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(headers=SANDBOX_HEADERS, verify=_SSL_CONTEXT, timeout=10) as http:
        return http.request(method, server.root_url + "/_sandbox" + path, **kwargs)


def raw_client(**kwargs: Any) -> httpx.Client:
    """A plain client (no credentials, no body checks) that is quick to build."""
    return httpx.Client(verify=_SSL_CONTEXT, timeout=10, **kwargs)


def add_body(file: str = "out.csv", **fields: Any) -> dict[str, Any]:
    """An AddExportSpec for an S3 export of dataview 456."""
    body: dict[str, Any] = {
        "DATAVIEW_ID": 456,
        "handler_type": "s3",
        "trigger_type": "none",
        "run_immediately": False,
        "target_properties": {"file": file},
    }
    body.update(fields)
    return body


def make_dataview(server: RunningSandbox) -> None:
    assert admin(server, "POST", "/dataviews", json=DATAVIEW).status_code in (200, 201)
