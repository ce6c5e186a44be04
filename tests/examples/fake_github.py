"""A few GitHub REST answers, served on a loopback socket for the apply recipe's lookup.

It answers the calls ``examples/ci/github/scripts/reviewed_plan.py`` makes, as
GitHub does: the pull requests of a commit, a workflow's runs filtered by the
query (``head_sha``, ``event``, ``status``), a run's artifacts by name, and an
artifact's zip as a redirect to storage that refuses a bearer token.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = ["FakeGitHub", "PullRequest", "Run", "serve"]

REPO = "acme/analytics"


@dataclass(frozen=True)
class PullRequest:
    number: int
    head_sha: str
    merge_commit_sha: str | None  # set once merged


@dataclass(frozen=True)
class Run:
    id: int
    head_sha: str
    created_at: str
    conclusion: str
    artifacts: dict[str, str] = field(default_factory=dict)  # name -> exportctl.plan text


@dataclass
class FakeGitHub:
    """What the fake knows: pull requests by commit, and the plan workflow's runs."""

    pulls_of_commit: dict[str, list[PullRequest]]
    runs: list[Run]
    workflow: str = "exportctl-plan.yml"
    token: str = "gh-token-1234"
    requests: list[str] = field(default_factory=list)
    base_url: str = ""  # set by serve()

    def answer(self, path: str, query: dict[str, str], headers: Any) -> tuple[int, Any]:
        self.requests.append(path)
        prefix = f"/repos/{REPO}"
        if path.startswith("/blob/"):
            if headers.get("Authorization"):
                return 400, {"message": "storage refuses a second authorization"}
            return 200, self._zip(int(path.removeprefix("/blob/")))
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}
        path = path.removeprefix(prefix)
        if path.startswith("/commits/") and path.endswith("/pulls"):
            sha = path.split("/")[2]
            return 200, [self._pull(p) for p in self.pulls_of_commit.get(sha, [])]
        if path == f"/actions/workflows/{self.workflow}/runs":
            return 200, {"workflow_runs": [self._run(r) for r in self.runs if _matches(r, query)]}
        if path.startswith("/actions/runs/") and path.endswith("/artifacts"):
            run = next(r for r in self.runs if r.id == int(path.split("/")[3]))
            names = [n for n in run.artifacts if n == query.get("name", n)]
            return 200, {"artifacts": [self._artifact(run, n) for n in names]}
        if path.startswith("/actions/artifacts/") and path.endswith("/zip"):
            return 302, {"Location": f"{self.base_url}/blob/{path.split('/')[3]}"}
        return 404, {"message": "Not Found"}

    def _pull(self, pull: PullRequest) -> dict[str, Any]:
        merged = pull.merge_commit_sha is not None
        return {
            "number": pull.number,
            "head": {"sha": pull.head_sha},
            "merge_commit_sha": pull.merge_commit_sha,
            "merged_at": "2026-11-30T10:00:00Z" if merged else None,
        }

    def _run(self, run: Run) -> dict[str, Any]:
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "created_at": run.created_at,
            "conclusion": run.conclusion,
            "html_url": f"https://github.invalid/{REPO}/actions/runs/{run.id}",
        }

    def _artifact(self, run: Run, name: str) -> dict[str, Any]:
        artifact_id = run.id * 10
        return {
            "id": artifact_id,
            "name": name,
            "expired": False,
            "archive_download_url": (
                f"{self.base_url}/repos/{REPO}/actions/artifacts/{artifact_id}/zip"
            ),
        }

    def _zip(self, artifact_id: int) -> bytes:
        run = next(r for r in self.runs if r.id * 10 == artifact_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zipped:
            for text in run.artifacts.values():
                zipped.writestr("exportctl.plan", text)
        return buffer.getvalue()


def _matches(run: Run, query: dict[str, str]) -> bool:
    status = query.get("status")
    return query.get("head_sha", run.head_sha) == run.head_sha and (
        status is None or status == run.conclusion
    )


@contextmanager
def serve(fake: FakeGitHub) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1 from a thread; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, body = fake.answer(url.path, query, self.headers)
            if status == 302:
                self.send_response(302)
                self.send_header("Location", body["Location"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
