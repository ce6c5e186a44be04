"""The CI recipes stay honest: valid YAML of the right shape, and every
``exportctl`` command line in them names a real command, real options and
valid choices of the CLI as it is today.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.selectors import parse_selector
from tests.examples.recipes import command_lines, problems_with

ROOT = Path(__file__).parents[2]
GITHUB = sorted((ROOT / "examples" / "ci" / "github").glob("*.yml"))
GITLAB = ROOT / "examples" / "ci" / "gitlab" / ".gitlab-ci.yml"
PRE_COMMIT = ROOT / ".pre-commit-hooks.yaml"
ACTION = ROOT / "action.yml"
# GitLab top-level keys that are settings, not jobs.
GITLAB_SETTINGS = frozenset(
    {"stages", "default", "variables", "include", "workflow", "image", "services", "cache"}
    | {"before_script", "after_script"}
)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def github_shell(path: Path) -> list[str]:
    jobs = load(path)["jobs"].values()
    return [step["run"] for job in jobs for step in job["steps"] if "run" in step]


def gitlab_shell() -> list[str]:
    document = load(GITLAB)
    jobs = [job for name, job in document.items() if name not in GITLAB_SETTINGS]
    scripts = [document.get("default", {}).get("before_script", [])]
    scripts += [job.get(part, []) for job in jobs for part in ("before_script", "script")]
    return [item for script in scripts for item in script]


def action_shell() -> list[str]:
    return [step["run"] for step in load(ACTION)["runs"]["steps"] if "run" in step]


def pre_commit_calls() -> list[list[str]]:
    calls = []
    for hook in load(PRE_COMMIT):
        entry = shlex.split(hook["entry"])
        if entry[0] == "exportctl":
            calls.append(entry[1:] + [str(a) for a in hook.get("args", [])])
    return calls


def all_calls() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    shells = [(p.name, text) for p in GITHUB for text in github_shell(p)]
    shells += [(GITLAB.name, text) for text in gitlab_shell()]
    shells += [(ACTION.name, text) for text in action_shell()]
    for name, text in shells:
        found += [(name, args) for args in command_lines(text)]
    found += [(PRE_COMMIT.name, args) for args in pre_commit_calls()]
    return found


CALLS = all_calls()


def test_every_recipe_file_is_covered() -> None:
    assert {path.name for path in GITHUB} == {
        "exportctl-apply.yml",
        "exportctl-drift.yml",
        "exportctl-drift-sharded.yml",
        "exportctl-drift-slack.yml",
        "exportctl-plan.yml",
    }
    assert {name for name, _ in CALLS} == {
        *(path.name for path in GITHUB),
        GITLAB.name,
        PRE_COMMIT.name,
        ACTION.name,
    }


def test_the_action_installs_from_its_own_checkout_and_no_recipe_asks_an_index() -> None:
    install = "\n".join(action_shell())
    assert 'pip install --quiet "$GITHUB_ACTION_PATH"' in install
    texts = [p.read_text(encoding="utf-8") for p in (*GITHUB, GITLAB)]
    assert not any("pip install exportctl" in t or "install --quiet exportctl" in t for t in texts)
    assert all("your-org/exportctl@" in p.read_text(encoding="utf-8") for p in GITHUB)


def test_the_pr_comment_names_the_planned_commit_and_replaces_a_stale_plan_on_failure() -> None:
    steps = load(ROOT / "examples" / "ci" / "github" / "exportctl-plan.yml")["jobs"]["plan"][
        "steps"
    ]
    comment = next(s for s in steps if s.get("uses", "").startswith("actions/github-script"))
    assert comment["if"].startswith("always()")
    assert comment["env"]["PLANNED_SHA"] == "${{ github.event.pull_request.head.sha }}"
    assert "plan-error.txt" in comment["with"]["script"]


@pytest.mark.parametrize("path", GITHUB, ids=lambda p: p.name)
def test_github_workflows_have_triggers_and_jobs_of_steps(path: Path) -> None:
    document = load(path)
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean true.
    assert document.get("on", document.get(True))
    assert document["jobs"]
    for job in document["jobs"].values():
        assert job["runs-on"]
        assert job["steps"]
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), step


def test_gitlab_pipeline_has_stages_and_jobs_with_scripts() -> None:
    document = load(GITLAB)
    stages = document["stages"]
    jobs = {name: job for name, job in document.items() if name not in GITLAB_SETTINGS}
    assert jobs
    for name, job in jobs.items():
        assert job["stage"] in stages, name
        assert job["script"] and all(isinstance(line, str) for line in job["script"]), name


def test_pre_commit_hooks_are_complete() -> None:
    hooks = load(PRE_COMMIT)
    assert hooks
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= hook.keys()


@pytest.mark.parametrize(
    ("recipe", "args"), CALLS, ids=[f"{name}: exportctl {' '.join(a)}" for name, a in CALLS]
)
def test_each_exportctl_line_runs_with_help(recipe: str, args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("recipe", "args"), CALLS, ids=[f"{name}: exportctl {' '.join(a)}" for name, a in CALLS]
)
def test_each_exportctl_line_uses_real_options_and_choices(recipe: str, args: list[str]) -> None:
    assert problems_with(args) == []


# The checker itself: it must find calls wherever a command starts, and fail.


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        ("exportctl validate -f exports/", [["validate", "-f", "exports/"]]),
        (
            "exportctl plan \\\n  -f x --no-color > plan.md; code=$?",
            [["plan", "-f", "x", "--no-color"]],
        ),
        ("exportctl drift -f x 2>err.txt | tee d.md", [["drift", "-f", "x"]]),
        ('x=$(exportctl show p --format json) && echo "$x"', [["show", "p", "--format", "json"]]),
        ("if true; then exportctl plan -f a; fi", [["plan", "-f", "a"]]),
        ("pip install exportctl", []),
        ("gh run list --workflow exportctl-plan.yml", []),
        ("cat exportctl.plan", []),
    ],
)
def test_command_lines_are_found_where_commands_start(
    shell: str, expected: list[list[str]]
) -> None:
    assert list(command_lines(shell)) == expected


@pytest.mark.parametrize(
    ("args", "problems"),
    [
        (["frobnicate", "-f", "x"], ["unknown command: exportctl frobnicate"]),
        (["plan", "-f", "x", "--bogus"], ["exportctl plan: no option --bogus"]),
        (
            ["apply", "--format=html"],
            ["exportctl apply: --format 'html' is not one of text, json"],
        ),
        (["validate", "-f", "x", "--format", "json"], []),
        (["sandbox", "serve", "--nope"], ["exportctl sandbox serve: no option --nope"]),
    ],
)
def test_problems_are_reported(args: list[str], problems: list[str]) -> None:
    assert problems_with(args) == problems


def test_gitlab_applies_the_saved_plan_of_its_own_pipeline_behind_a_manual_gate() -> None:
    document = load(GITLAB)
    apply = document["apply"]
    assert apply["needs"] == ["plan"]
    assert [rule.get("when") for rule in apply["rules"]] == ["manual"]
    assert apply["script"][0].startswith("exportctl apply exportctl.plan")
    assert "exportctl.plan" in document["plan"]["artifacts"]["paths"]
    install = " ".join(document["default"]["before_script"])
    assert "${EXPORTCTL_SOURCE}@${EXPORTCTL_REF}" in install


def test_every_drift_shard_is_a_selector_exportctl_accepts() -> None:
    sharded = load(ROOT / "examples" / "ci" / "github" / "exportctl-drift-sharded.yml")
    shards = sharded["jobs"]["drift"]["strategy"]["matrix"]["shard"]
    assert len(shards) > 1
    for shard in shards:
        assert parse_selector(shard["target"], ["mammoth"]).text == shard["target"]
