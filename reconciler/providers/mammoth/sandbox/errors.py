"""Mammoth's error bodies, as the real server and its official SDK show them.

The published spec gives every error as ``{"status_code", "detail", "extra"}``;
the current SDK (``mammoth-io`` 0.8.52, ``client._read_error_detail``) reads
more than that: the sentence in ``message``, ``detail`` beside it (``null`` on
a 404), an ``error_code`` such as ``4GENR007`` for a validation error and a
``hint``. The sandbox sends all of them, plus the ``request_id`` that its
``X-Request-ID`` header also carries, so that a client can be tested against
each. Error codes other than the two the SDK names (``4GENR007``,
``4GENR038``) are the sandbox's own, in the same shape (``docs/sandbox.md``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

__all__ = ["KEY_IN_PROGRESS", "REQUEST_ID_HEADER", "error_body", "error_response"]

REQUEST_ID_HEADER = "X-Request-ID"
VALIDATION = "4GENR007"  # the SDK's code for a refused request body or query
KEY_IN_PROGRESS = "4GENR038"  # the SDK's code for "that key's first attempt still runs"

# status -> (error_code, hint); 400 and 409 carry the SDK's codes.
_BY_STATUS: dict[int, tuple[str, str]] = {
    400: (VALIDATION, "Fix the field the message names and send the request again."),
    401: ("4AUTH001", "Send a valid key and secret as X-API-KEY and X-API-SECRET."),
    403: ("4PERM001", "Ask a workspace admin for access to this resource."),
    404: ("4GENR004", "Check the ids in the URL; list the parent resource to find them."),
    409: (KEY_IN_PROGRESS, "Wait a moment and send the same request with the same key."),
    429: ("4GENR029", "Wait as long as Retry-After says, then send the request again."),
    503: ("5GENR003", "The service is busy; retry with backoff."),
}


def error_body(
    status_code: int, message: str, extra: Any = None, *, error_code: str | None = None
) -> dict[str, Any]:
    """The body of an error answer; ``detail`` is null on a 404, as the real server sends it."""
    code, hint = _BY_STATUS.get(status_code, (f"{status_code // 100}GENR000", ""))
    return {
        "status_code": status_code,
        "message": message,
        "detail": None if status_code == 404 else message,
        "error_code": error_code or code,
        "hint": hint,
        "extra": extra,
        "request_id": uuid.uuid4().hex,
    }


def error_response(
    status_code: int,
    message: str,
    extra: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
    error_code: str | None = None,
) -> JSONResponse:
    body = error_body(status_code, message, extra, error_code=error_code)
    sent = {**(headers or {}), REQUEST_ID_HEADER: body["request_id"]}
    return JSONResponse(body, status_code=status_code, headers=sent)
