"""Ids in the sandbox's URLs: the route matched ASCII digits; they must also fit SQLite.

SQLite stores 64-bit signed integers, so a larger id would fail deep in a
query (a 500); it is a 400 naming the parameter instead.
"""

from __future__ import annotations

from starlette.requests import Request

from reconciler.providers.mammoth.model import DataviewRef
from reconciler.sandbox.problems import bad_request

__all__ = ["MAX_ID", "dataview_of", "path_id"]

MAX_ID = 2**63 - 1


def path_id(request: Request, name: str) -> int:
    """An id from the URL, if it fits in 64 bits."""
    value: int = request.path_params[name]
    if value > MAX_ID:
        raise bad_request(
            f"path parameter {name}: {value} is out of range (ids are below 2**63)",
            [{"key": name, "message": "out of range", "source": "path"}],
        )
    return value


def dataview_of(request: Request) -> DataviewRef:
    names = ("workspace_id", "project_id", "dataset_id", "dataview_id")
    return DataviewRef(*(path_id(request, name) for name in names))
