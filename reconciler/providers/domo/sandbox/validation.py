"""The sandbox's reading of an export request body: Domo's 400 "invalid request".

What it checks is what a real export could not survive: fields of the wrong
type, a region that is not AWS's, a customer bucket without the keys to
write to it, and a query that is neither an object nor JSON text of one (the
spec types ``queryRequest`` as a string, the documentation sends an object:
the sandbox takes both). Column names are collected for the DataSet's own
check. Credentials are only looked at for presence: ``ExportAsk`` has no
field to hold them, so nothing downstream can store them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.providers.domo.regions import AWS_REGIONS
from reconciler.sandbox.problems import HttpProblem, bad_request

__all__ = ["DOMO_MANAGED_BUCKET", "ExportAsk", "parse_export_body"]

# Where Domo writes when no bucket is named ("a Domo configured bucket").
DOMO_MANAGED_BUCKET = "domo-managed-exports"
_TEXT_FIELDS = (
    "bucket",
    "path",
    "region",
    "awsAccessKey",
    "awsAccessSecret",
    "sessionToken",
    "awsKmsKey",
    "source",
)


@dataclass(frozen=True)
class ExportAsk:
    """What an accepted request asks for, credentials left behind."""

    bucket: str
    path: str
    columns: tuple[str, ...]
    include_bom: bool = False


def parse_export_body(body: Any, dataset_id: str) -> ExportAsk:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for name in _TEXT_FIELDS:
        if name in body and body[name] is not None and not isinstance(body[name], str):
            raise bad_request(f"{name} must be a string.")
    region = body.get("region")
    if region and region not in AWS_REGIONS:
        raise bad_request(f"Unknown AWS region: {region}.")
    bucket = body.get("bucket") or None
    if bucket is not None and not (body.get("awsAccessKey") and body.get("awsAccessSecret")):
        raise bad_request("awsAccessKey and awsAccessSecret are required to export to a bucket.")
    path = (body.get("path") or dataset_id).strip("/") or dataset_id
    if any(part in ("", ".", "..") for part in path.split("/")):
        # The sandbox writes the file under a local folder: such a key could leave it.
        raise bad_request(f"path {path!r} has an empty, '.' or '..' segment.")
    query_request = _query_request(body.get("queryRequest"))
    include_bom = query_request.get("includeBOM", False)
    if not isinstance(include_bom, bool):
        raise _bad_query("includeBOM must be true or false")
    return ExportAsk(bucket or DOMO_MANAGED_BUCKET, path, _columns(query_request), include_bom)


def _query_request(query_request: Any) -> dict[str, Any]:
    """The ``queryRequest`` as an object, whichever form it came in; ``{}`` when absent."""
    if query_request is None:
        return {}
    if isinstance(query_request, str):
        try:
            query_request = json.loads(query_request)
        except ValueError:
            raise _bad_query("is not JSON") from None
    if not isinstance(query_request, dict):
        raise _bad_query("must be an object")
    return query_request


def _columns(query_request: dict[str, Any]) -> tuple[str, ...]:
    query = query_request.get("query")
    if query is None:
        return ()
    if not isinstance(query, dict):
        raise _bad_query("query must be an object")
    names: list[str] = []
    for part in ("columns", "groupByColumns", "orderByColumns"):
        items = query.get(part, [])
        if not isinstance(items, list):
            raise _bad_query(f"query.{part} must be a list")
        names.extend(item["column"] for item in items if _names_column(item))
    return tuple(names)


def _names_column(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("column"), str)


def _bad_query(what: str) -> HttpProblem:
    return bad_request(f"queryRequest {what}.")
