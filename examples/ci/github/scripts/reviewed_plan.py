#!/usr/bin/env python3
"""Fetch the saved plan that was reviewed on the pull request merged as this push.

The apply workflow runs on a push to main. The plan to apply is the one the
plan workflow saved for the merged pull request's *head commit*: not the
newest plan run of any pull request, which may belong to another one. So:

1. the pull request merged as ``GITHUB_SHA`` (``GET /commits/{sha}/pulls``,
   the one whose ``merge_commit_sha`` is this commit);
2. its head commit's newest successful run of the plan workflow
   (``GET /actions/workflows/{workflow}/runs?head_sha=...``);
3. that run's artifact ``exportctl-plan-<number>``, unzipped into ``--out``.

Anything missing is refused with what was looked for and what to do, exit 1.
Standard library only, so it runs before anything is installed. Reads
``GITHUB_API_URL``, ``GITHUB_REPOSITORY``, ``GITHUB_SHA`` and ``GH_TOKEN`` (or
``GITHUB_TOKEN``), which GitHub Actions sets (the token from the workflow).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

PLAN_FILE = "exportctl.plan"


class Refused(Exception):
    """The reviewed plan cannot be found: the message says what is missing and why."""


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    """Hand a redirect back to the caller instead of following it with the token."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class GitHub:
    """The few REST calls this script needs, authenticated with the workflow's token."""

    def __init__(self, api_url: str, repository: str, token: str) -> None:
        self.base = f"{api_url.rstrip('/')}/repos/{repository}"
        self.headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        self.opener = urllib.request.build_opener(_KeepRedirects)

    def get(self, path: str, **query: str) -> Any:
        url = f"{self.base}{path}?{urllib.parse.urlencode(query)}"
        return json.loads(self._read(url, self.headers))

    def archive(self, url: str) -> bytes:
        """An artifact's zip: GitHub redirects to a signed storage URL, which must be
        fetched without the token (the storage refuses, or would see, a second one)."""
        try:
            return self._read(url, self.headers)
        except urllib.error.HTTPError as error:
            location = error.headers.get("Location")
            if error.code not in (301, 302, 303, 307, 308) or not location:
                raise self._refused(url, error) from None
            return self._read(location, {})

    def _read(self, url: str, headers: dict[str, str]) -> bytes:
        request = urllib.request.Request(url, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as answer:
                body: bytes = answer.read()
                return body
        except urllib.error.HTTPError as error:
            if 300 <= error.code < 400:
                raise
            raise self._refused(url, error) from None
        except urllib.error.URLError as error:
            raise Refused(f"Cannot reach {url.split('?')[0]}: {error.reason}.") from None

    @staticmethod
    def _refused(url: str, error: urllib.error.HTTPError) -> Refused:
        return Refused(
            f"GitHub answered {error.code} to GET {url.split('?')[0]}. Check that the "
            "workflow has the 'actions: read' and 'pull-requests: read' permissions."
        )


def merged_pull_request(github: GitHub, sha: str) -> dict[str, Any]:
    pulls = github.get(f"/commits/{sha}/pulls")
    for pull in pulls:
        if pull.get("merged_at") and pull.get("merge_commit_sha") == sha:
            return dict(pull)
    raise Refused(
        f"No pull request was merged as commit {sha[:12]}: it was pushed to the branch "
        "directly, so no plan of it was reviewed. Open a pull request, or plan and apply "
        "by hand."
    )


def reviewed_run(github: GitHub, workflow: str, head_sha: str, number: int) -> dict[str, Any]:
    answer = github.get(
        f"/actions/workflows/{workflow}/runs",
        head_sha=head_sha,
        event="pull_request",
        status="success",
    )
    runs = sorted(answer.get("workflow_runs", []), key=lambda r: r["created_at"], reverse=True)
    if not runs:
        raise Refused(
            f"Pull request #{number} has no successful {workflow} run for its head commit "
            f"{head_sha[:12]}, so its last push was never planned (or the plan failed). "
            "Re-run the plan workflow on the pull request, review it, then re-run this one."
        )
    return dict(runs[0])


def fetch_plan(github: GitHub, run: dict[str, Any], number: int, out: Path) -> Path:
    name = f"exportctl-plan-{number}"
    artifacts = github.get(f"/actions/runs/{run['id']}/artifacts", name=name)["artifacts"]
    usable = [a for a in artifacts if a["name"] == name and not a.get("expired")]
    if not usable:
        raise Refused(
            f"Plan run {run['id']} of pull request #{number} kept no artifact {name!r} "
            "(expired or never uploaded). Re-run the plan workflow on the pull request."
        )
    archive = github.archive(usable[0]["archive_download_url"])
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        if PLAN_FILE not in zipped.namelist():
            raise Refused(f"Artifact {name!r} of run {run['id']} holds no {PLAN_FILE}.")
        out.mkdir(parents=True, exist_ok=True)
        (out / PLAN_FILE).write_bytes(zipped.read(PLAN_FILE))
    return out / PLAN_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflow", default="exportctl-plan.yml", help="the plan workflow file")
    parser.add_argument("--out", default=".", type=Path, help="directory for exportctl.plan")
    args = parser.parse_args(argv)
    env = os.environ
    token = env.get("GH_TOKEN") or env.get("GITHUB_TOKEN", "")
    api_url = env.get("GITHUB_API_URL", "https://api.github.com")
    github = GitHub(api_url, env["GITHUB_REPOSITORY"], token)
    sha = env["GITHUB_SHA"]
    try:
        pull = merged_pull_request(github, sha)
        head = pull["head"]["sha"]
        run = reviewed_run(github, args.workflow, head, pull["number"])
        path = fetch_plan(github, run, pull["number"], args.out)
    except Refused as refusal:
        print(f"::error::{refusal}", file=sys.stderr)
        return 1
    print(
        f"Applying the plan of pull request #{pull['number']} (head {head[:12]}), "
        f"saved by run {run['id']}: {run.get('html_url', '')}"
    )
    print(f"Saved it to {path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
