"""The errors the sandbox answers with, in the API's error body shape.

Mammoth answers every error as ``{"status_code", "detail", "extra"}``; the
sandbox raises ``HttpProblem`` anywhere below the routes and one exception
handler turns it into that body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

__all__ = ["ConnectionDropped", "HttpProblem", "bad_request", "not_found", "problem_response"]


class HttpProblem(Exception):
    """An error answer: status, a detail saying what is wrong, optional extra data."""

    def __init__(self, status_code: int, detail: str, extra: Any = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.extra = extra


class ConnectionDropped(Exception):
    """The commit-then-fail "drop" fault, raised when no socket is there to close.

    In-process (httpx's ASGITransport) the transport turns it into
    ``httpx.RemoteProtocolError``, which is what a closed socket looks like.
    """


def bad_request(detail: str, extra: Any = None) -> HttpProblem:
    return HttpProblem(400, detail, extra)


def not_found(detail: str) -> HttpProblem:
    return HttpProblem(404, detail)


def problem_response(
    status_code: int, detail: str, extra: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"status_code": status_code, "detail": detail, "extra": extra}
    return JSONResponse(body, status_code=status_code, headers=headers)
