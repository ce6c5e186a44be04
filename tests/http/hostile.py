"""A small hostile HTTP server on loopback: answers no real API would give.

Each mode is one way a broken or malicious server can hurt a client that
trusts it: dripping an answer a byte at a time, a compressed body that
inflates a thousandfold, JSON nested beyond any parser's stack, an error
that echoes the request body (and the secret in it) or its headers (and the
credentials in them, as a proxy's debug page does), listings that never end
or whose exports are malformed, and answers that break HTTP itself.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["BAD_RECORDS", "BOMB_INFLATED_BYTES", "RAW_ANSWERS", "serve_hostile", "served"]

BOMB_INFLATED_BYTES = 256 * 1024 * 1024


@cache
def _gzip_bomb() -> bytes:
    """``BOMB_INFLATED_BYTES`` of zeros, gzip-compressed (about 250 KB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = bytes(1024 * 1024)
    parts = [packer.compress(chunk) for _ in range(BOMB_INFLATED_BYTES // len(chunk))]
    return b"".join(parts) + packer.flush()


# A listing whose one export is broken in one way (1e400 is written unquoted).
BAD_RECORDS: dict[str, dict[str, object]] = {
    "id-as-text": {"id": "17", "handler_type": "s3"},
    "id-missing": {"handler_type": "s3"},
    "id-1e400": {"id": "1e400", "handler_type": "s3"},
    "target-not-an-object": {"id": 3, "handler_type": "s3", "target_properties": "file.csv"},
}


# Answers written byte for byte, to test the HTTP layer itself (then the
# connection is closed; b"" hangs up without a word).
RAW_ANSWERS: dict[str, bytes] = {
    "hang-up": b"",
    "not-http": b"SSH-2.0-OpenSSH_9.6\r\n",
    "cut-body": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[1, 2",
    "chunked-after-continue": (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\n[1, \r\n2\r\n2]\r\n0\r\n\r\n"
    ),
}


def _endless_page(path: str) -> dict[str, object]:
    """A full page of new exports after any offset, always with a next page."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    offset = int(query.get("offset", ["0"])[0])
    exports = [{"id": offset + i + 1, "handler_type": "s3"} for i in range(100)]
    return {"exports": exports, "next": "more"}


class _Handler(BaseHTTPRequestHandler):
    mode = "drip"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read what the client says, not the server's log."""

    def do_GET(self) -> None:
        if self.mode == "drip":
            self._drip()
        elif self.mode == "gzip-bomb":
            self._answer(200, _gzip_bomb(), {"Content-Encoding": "gzip"})
        elif self.mode == "deep-json":
            self._answer(200, b"[" * 100_000 + b"]" * 100_000)
        elif self.mode == "endless-pages":
            self._answer(200, json.dumps(_endless_page(self.path)).encode())
        elif self.mode in RAW_ANSWERS:
            self.close_connection = True
            self.wfile.write(RAW_ANSWERS[self.mode])
        elif self.mode == "header-echo":
            sent = "; ".join(f"{name}={value}" for name, value in self.headers.items())
            self._answer(400, json.dumps({"detail": f"bad request: headers {sent}"}).encode())
        elif self.mode in BAD_RECORDS:
            page = {"exports": [BAD_RECORDS[self.mode]], "next": None}
            self._answer(200, json.dumps(page).encode().replace(b'"1e400"', b"1e400"))
        else:
            self._answer(404, b"{}")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        echo = json.dumps({"detail": f"invalid request: {body.replace(chr(34), chr(39))}"})
        self._answer(400, echo.encode())

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        try:
            for _ in range(1_000_000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client gave up: exactly what it should do
            return


@contextmanager
def serve_hostile(mode: str) -> Iterator[str]:
    """A server answering in ``mode`` on a free loopback port; yields its base URL."""
    handler = type("Handler", (_Handler,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    with served(server) as base_url:
        yield base_url


@contextmanager
def served(server: ThreadingHTTPServer) -> Iterator[str]:
    """``server`` (bound to a loopback port) serving in a thread; yields its base URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
