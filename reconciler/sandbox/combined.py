"""All providers' sandbox APIs behind one socket, each under its real path prefix.

``exportctl sandbox serve`` asks every registered provider for its
``SandboxPart`` and serves them together: a request goes to the part whose
prefix is the longest match of its path (so ``/_sandbox/mailgun/clock``
reaches Mailgun's admin routes even though Mammoth answers ``/_sandbox``),
and anything else gets a 404 naming where the APIs are. Answers without a
``Date`` header get one, as every HTTP server sends; providers whose data
ages send the date of the shared sandbox clock themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from email.utils import formatdate

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.providers.base import SandboxPart

__all__ = ["combined_app"]


def combined_app(parts: Sequence[SandboxPart]) -> ASGIApp:
    """One ASGI app routing each request to the provider part that owns its path."""
    routes = sorted(
        ((prefix.rstrip("/"), part.app) for part in parts for prefix in part.prefixes),
        key=lambda route: len(route[0]),
        reverse=True,
    )
    known = sorted(prefix for prefix, _ in routes)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        for prefix, target in routes:
            if path == prefix or path.startswith(prefix + "/"):
                await target(scope, receive, _with_date(send))
                return
        if scope["type"] == "http":
            await _not_here(send, known)

    return app


def _with_date(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == b"date" for name, _ in headers):
                headers.append((b"date", formatdate(usegmt=True).encode()))
                message = {**message, "headers": headers}
        await send(message)

    return sending


async def _not_here(send: Send, known: list[str]) -> None:
    body = json.dumps(
        {"status_code": 404, "detail": f"no sandbox API here; they are under {', '.join(known)}"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"date", formatdate(usegmt=True).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
