"""The apply recipe applies the plan of the merged pull request's head commit.

The workflow's lookup step is run as written (its script, its arguments)
against a fake GitHub API on a loopback socket that holds the runs of two
pull requests: the merged one, and another whose successful plan run is
newer. Only the merged one's plan may be chosen; with none, it refuses.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.examples.fake_github import REPO, FakeGitHub, PullRequest, Run, serve

ROOT = Path(__file__).parents[2]
APPLY = ROOT / "examples" / "ci" / "github" / "exportctl-apply.yml"
SCRIPT = ROOT / "examples" / "ci" / "github" / "scripts" / "reviewed_plan.py"

MERGE = "m" * 40
MERGED_HEAD = "a" * 40
OTHER_HEAD = "b" * 40


def lookup_command() -> list[str]:
    """The apply workflow's lookup step, with the script at its place in this repository."""
    steps = yaml.safe_load(APPLY.read_text(encoding="utf-8"))["jobs"]["apply"]["steps"]
    runs = [step["run"] for step in steps if "reviewed_plan.py" in step.get("run", "")]
    assert len(runs) == 1
    words = shlex.split(runs[0])
    assert words[0] == "python" and words[1] == ".github/scripts/reviewed_plan.py"
    return [sys.executable, str(SCRIPT), *words[2:]]


def two_pull_requests(*, merged_run_ok: bool = True) -> FakeGitHub:
    merged = PullRequest(7, MERGED_HEAD, MERGE)
    other = PullRequest(8, OTHER_HEAD, None)  # open, its branch contains the merge commit
    return FakeGitHub(
        pulls_of_commit={MERGE: [other, merged]},
        runs=[
            Run(70, MERGED_HEAD, "2026-11-30T08:00:00Z", "success", {"exportctl-plan-7": "old"}),
            Run(
                71,
                MERGED_HEAD,
                "2026-11-30T09:00:00Z",
                "success" if merged_run_ok else "failure",
                {"exportctl-plan-7": "plan of #7 at its head"},
            ),
            Run(80, OTHER_HEAD, "2026-11-30T11:00:00Z", "success", {"exportctl-plan-8": "#8"}),
        ],
    )


def run_lookup(
    fake: FakeGitHub, workdir: Path, sha: str = MERGE
) -> subprocess.CompletedProcess[str]:
    with serve(fake) as url:
        env = {
            **os.environ,
            "GITHUB_API_URL": url,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_SHA": sha,
            "GH_TOKEN": fake.token,
        }
        return subprocess.run(
            lookup_command(), cwd=workdir, env=env, capture_output=True, text=True, timeout=30
        )


def test_the_merged_pull_requests_newest_plan_is_chosen(tmp_path: Path) -> None:
    result = run_lookup(two_pull_requests(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "exportctl.plan").read_text() == "plan of #7 at its head"
    assert result.stdout.splitlines()[0] == (
        f"Applying the plan of pull request #7 (head {MERGED_HEAD[:12]}), saved by run 71: "
        f"https://github.invalid/{REPO}/actions/runs/71"
    )


def test_a_failed_plan_of_the_merged_head_is_never_replaced_by_an_older_one(
    tmp_path: Path,
) -> None:
    fake = two_pull_requests(merged_run_ok=False)
    result = run_lookup(fake, tmp_path)
    # The older successful run of the same head is still that head's plan.
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "exportctl.plan").read_text() == "old"


def test_a_push_that_merged_no_pull_request_is_refused(tmp_path: Path) -> None:
    result = run_lookup(two_pull_requests(), tmp_path, sha="c" * 40)
    assert result.returncode == 1
    assert result.stderr == (
        "::error::No pull request was merged as commit cccccccccccc: it was pushed to the "
        "branch directly, so no plan of it was reviewed. Open a pull request, or plan and "
        "apply by hand.\n"
    )
    assert not (tmp_path / "exportctl.plan").exists()


def test_a_merged_head_that_was_never_planned_is_refused(tmp_path: Path) -> None:
    fake = two_pull_requests()
    fake.runs[:] = [r for r in fake.runs if r.head_sha != MERGED_HEAD]
    result = run_lookup(fake, tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "::error::Pull request #7 has no successful exportctl-plan.yml run for its head "
        f"commit {MERGED_HEAD[:12]}, so its last push was never planned (or the plan "
        "failed). Re-run the plan workflow on the pull request, review it, then re-run "
        "this one.\n"
    )


@pytest.mark.parametrize("token", ["", "wrong"])
def test_a_token_github_refuses_is_reported_with_what_to_check(tmp_path: Path, token: str) -> None:
    fake = two_pull_requests()
    with serve(fake) as url:
        env = {**os.environ, "GITHUB_API_URL": url, "GITHUB_REPOSITORY": REPO}
        env |= {"GITHUB_SHA": MERGE, "GH_TOKEN": token}
        result = subprocess.run(
            lookup_command(), cwd=tmp_path, env=env, capture_output=True, text=True
        )
    assert result.returncode == 1
    assert "GitHub answered 401 to GET " in result.stderr
    assert "'actions: read' and 'pull-requests: read'" in result.stderr
