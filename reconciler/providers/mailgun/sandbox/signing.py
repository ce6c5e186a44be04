"""Temporary file links, signed the way S3 presigns a GET.

Mailgun's ``download_url`` redirects to "a temporary S3 URL". The sandbox
serves the file itself, under a path that stands for the bucket, with the
query parameters a presigned S3 URL carries (``X-Amz-Date``,
``X-Amz-Expires``, ``X-Amz-Signature``, ...) and S3's checks: a link works
for ``LINK_LIFETIME_S`` on the sandbox clock, only with its signature, and
never together with an ``Authorization`` header. The signature is an
HMAC-SHA256 over the object and the dates, not AWS's full scheme: only
the sandbox checks it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

__all__ = ["LINK_LIFETIME_S", "LinkProblem", "check_link", "sign_link"]

LINK_LIFETIME_S = 900  # S3's usual presign lifetime; Mailgun states none
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


class LinkProblem(Exception):
    """Why S3 refuses a request: its status, error ``code`` and ``message``."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


def _signature(key: bytes, name: str, date: str, expires: str) -> str:
    text = f"GET\n{name}\n{date}\n{expires}".encode()
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def sign_link(key: bytes, name: str, now: float) -> dict[str, str]:
    """The query parameters of a link to object ``name``, issued at ``now``."""
    date = datetime.fromtimestamp(now, UTC).strftime(_DATE_FORMAT)
    expires = str(LINK_LIFETIME_S)
    return {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Date": date,
        "X-Amz-Expires": expires,
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Signature": _signature(key, name, date, expires),
    }


def check_link(
    key: bytes, name: str, query: Mapping[str, str], authorization: str | None, now: float
) -> None:
    """Raise ``LinkProblem`` unless the request may read object ``name`` at ``now``."""
    if authorization is not None:
        raise LinkProblem(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified",
        )
    date, expires, signature = (
        query.get("X-Amz-Date"),
        query.get("X-Amz-Expires"),
        query.get("X-Amz-Signature"),
    )
    if date is None or expires is None or signature is None:
        raise LinkProblem(403, "AccessDenied", "Query-string authentication requires a signature")
    expected = _signature(key, name, date, expires)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise LinkProblem(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    issued = datetime.strptime(date, _DATE_FORMAT).replace(tzinfo=UTC).timestamp()
    if now > issued + int(expires):
        raise LinkProblem(403, "AccessDenied", "Request has expired")
