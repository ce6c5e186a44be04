"""Every request the client sends, recorded on the wire, against Domo's official OpenAPI.

``S3-Export-API.yaml`` declares one path, ``/api/query/v1/export/{dataset_id}``,
with GET and POST, and the POST body's fields, all strings. The schema below
restates that request body; the only corrections are where FACTS.md says the
documentation prose wins over the OpenAPI file:

- ``queryRequest`` is an object (the prose's examples), not a string;
- the token goes in ``X-DOMO-Developer-Token`` on the instance's own host
  (the "Product API"), not as the OpenAPI file's bearer scheme on api.domo.com.

``additionalProperties: false`` is stricter than the file (which does not
forbid extras), so a misspelt field cannot slip through.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import jsonschema

from reconciler.providers.domo.client import DomoClient
from tests.providers.domo.support import DATASET, DomoSandbox, entry, run

_STRING = {"type": "string"}
REQUEST_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "path": _STRING,
        "bucket": _STRING,
        "awsAccessKey": _STRING,
        "awsAccessSecret": _STRING,
        "awsKmsKey": _STRING,
        "sessionToken": _STRING,
        "region": _STRING,
        "queryRequest": {"type": "object"},  # correction: an object, as the prose sends it
        "source": _STRING,
    },
    "additionalProperties": False,
}
PATH = re.compile(r"^/api/query/v1/export/(?P<dataset_id>[^/]+)$")


class Recording(httpx.AsyncHTTPTransport):
    """The real socket transport, keeping a copy of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await super().handle_async_request(request)


def test_every_recorded_request_validates_against_the_openapi(domo: DomoSandbox) -> None:
    domo.dataset()
    recording = Recording()
    full = entry(query={"columns": ["Region"], "order_by": ["Region"]}, include_bom=True)
    minimal = entry(path="domo/minimal", credentials={"access_key": "AKIAX", "secret_key": "s"})

    async def talk() -> None:
        async with DomoClient(domo.root_url, domo.token, transport=recording) as client:
            await client.start_export(full.request)
            await client.list_exports(DATASET)
            domo.advance(60)  # the first export ends; the next POST is allowed
            domo.bump()
            await client.start_export(minimal.request)

    run(talk())
    methods = [r.method for r in recording.sent]
    assert methods == ["POST", "GET", "POST"]
    for request in recording.sent:
        match = PATH.match(request.url.path)
        assert match is not None and match["dataset_id"] == DATASET
        assert request.headers["X-DOMO-Developer-Token"] == domo.token
        assert "authorization" not in request.headers
        if request.method == "POST":
            assert request.headers["content-type"] == "application/json"
            jsonschema.validate(json.loads(request.content), REQUEST_BODY)
        else:
            assert request.content == b""
    first = json.loads(recording.sent[0].content)
    assert first["queryRequest"]["includeBOM"] is True
    assert "queryRequest" not in json.loads(recording.sent[2].content)
