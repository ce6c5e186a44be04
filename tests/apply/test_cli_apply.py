"""``exportctl apply`` end to end: approval, saved plans, exit codes, a killed run."""

import asyncio
import json
import os
import pty
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from reconciler._resources import load_schema
from reconciler.cli.apply_cmd import NEEDS_APPROVAL, approve
from reconciler.cli.main import cli
from reconciler.errors import ApplyRefusedError
from reconciler.manifest import load_manifest
from reconciler.planfile import load_plan
from tests.apply.convergence import assert_converged, unmarked
from tests.apply.helpers import REF, plan_now, seed
from tests.conftest import SandboxFactory
from tests.sandboxes import RunningSandbox

ENV = {"MAMMOTH_API_KEY": "sandbox", "MAMMOTH_API_SECRET": "sandbox"}
AGAIN = "Run 'exportctl plan --out FILE' again, review it, and apply the new plan."


def _manifest(path: Path, count: int = 2, prefix: str = "e") -> Path:
    lines = [
        "version: 1",
        "dataviews:",
        "  - {workspace_id: 1, project_id: 1, dataset_id: 123, dataview_id: 456,",
        "     exports: [",
    ]
    lines += [
        f"       {{key: {prefix}{i}, handler_type: s3, trigger_type: none, "
        f"run_immediately: false, target_properties: {{file: {prefix}{i}.csv}}}},"
        for i in range(count)
    ]
    path.write_text("\n".join([*lines, "     ]}", ""]), encoding="utf-8")
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=ENV)
    return result.exit_code, result.output


def test_off_a_terminal_apply_needs_auto_approve(server: RunningSandbox, tmp_path: Path) -> None:
    manifest = _manifest(tmp_path / "exports.yaml")
    code, output = _run("apply", "-f", str(manifest), "--endpoint", server.base_url)
    assert code == 1
    assert output.endswith(f"Error: {NEEDS_APPROVAL}\n")
    assert NEEDS_APPROVAL == (
        "apply needs approval, but stdin is not a terminal to ask on. Pass --auto-approve "
        "to apply without asking, or review a saved plan first: 'exportctl plan -f ... "
        "--out FILE', then 'exportctl apply FILE'."
    )
    state = load_manifest([str(manifest)])
    actions = [c.action.value for _, c in plan_now(server.base_url, state).changes()]
    assert actions == ["add", "add"]  # nothing was applied


def test_auto_approve_applies_and_prints_progress_and_summary(
    server: RunningSandbox, tmp_path: Path
) -> None:
    manifest = _manifest(tmp_path / "exports.yaml")
    args = ("apply", "-f", str(manifest), "--endpoint", server.base_url, "--auto-approve")
    code, output = _run(*args)
    assert code == 0
    assert output.splitlines()[-4:] == [
        "dataview 1/1/123/456: + e0 (s3) created as export 1 [1/2]",
        "dataview 1/1/123/456: + e1 (s3) created as export 2 [2/2]",
        "Apply complete: 2 applied, 0 failed, 0 skipped.",
        "  dataview 1/1/123/456: 2 applied, 0 failed, 0 skipped",
    ]
    assert _run(*args) == (0, "No changes. The live exports already match the manifest.\n")


def test_a_failure_exits_1_with_the_failed_change_in_the_summary(
    server: RunningSandbox, tmp_path: Path
) -> None:
    manifest = _manifest(tmp_path / "exports.yaml", count=1)
    server.set_faults(job_rate=1.0, job_failure_rate=1.0)
    code, output = _run(
        "apply", "-f", str(manifest), "--endpoint", server.base_url, "--auto-approve"
    )
    assert code == 1
    lines = output.splitlines()
    assert lines[-5:-2] == [
        "Apply finished with failures: 0 applied, 1 failed, 0 skipped.",
        "  dataview 1/1/123/456: 0 applied, 1 failed, 0 skipped",
        "Failed:",
    ]
    assert lines[-2].startswith("  dataview 1/1/123/456: + e0 (s3) failed: job 1 for add e0")
    assert lines[-1] == (  # a failed job fails the same way again: no plain "apply again"
        "The server refused this change, so rerunning alone will not help: fix the manifest "
        "(or the platform) first, then run exportctl apply again."
    )


def _saved(server: RunningSandbox, tmp_path: Path) -> tuple[Path, Path]:
    manifest = _manifest(tmp_path / "exports.yaml")
    planfile = tmp_path / "plan.json"
    code, _ = _run(
        "plan", "-f", str(manifest), "--endpoint", server.base_url, "--out", str(planfile)
    )
    assert code == 0
    return manifest, planfile


def test_a_fresh_saved_plan_applies_exactly_what_it_showed(
    server: RunningSandbox, tmp_path: Path
) -> None:
    manifest, planfile = _saved(server, tmp_path)
    shown = [(c.action.symbol, c.key) for _, c in load_plan(planfile).plan.changes()]
    code, output = _run("apply", str(planfile), "--endpoint", server.base_url)
    assert code == 0
    applied = [tuple(line.split(": ", 1)[1].split(" ")[:2]) for line in output.splitlines()[:2]]
    assert applied == shown == [("+", "e0"), ("+", "e1")]
    assert_converged(server.base_url, load_manifest([str(manifest)]))


def test_a_stale_saved_plan_is_refused(server: RunningSandbox, tmp_path: Path) -> None:
    _, planfile = _saved(server, tmp_path)
    seed(
        server.base_url,
        REF,
        [{"handler_type": "s3", "trigger_type": "none", "target_properties": {"file": "hand.csv"}}],
    )
    code, output = _run("apply", str(planfile), "--endpoint", server.base_url)
    made = load_plan(planfile).created_at
    assert (code, output) == (
        1,
        f"Error: Saved plan {planfile} is stale: the live exports of these dataviews changed "
        f"since the plan was made ({made}):\n  dataview 1/1/123/456\n"
        f"Nothing was changed. {AGAIN}\n",
    )


def test_a_plan_from_another_manifest_version_is_refused(
    server: RunningSandbox, tmp_path: Path
) -> None:
    manifest, planfile = _saved(server, tmp_path)
    _manifest(manifest, count=3)
    code, output = _run("apply", str(planfile), "--endpoint", server.base_url)
    made = load_plan(planfile).created_at
    assert (code, output) == (
        1,
        f"Error: Saved plan {planfile} was made from a different version of the manifest: "
        f"{manifest} changed since the plan was made ({made}). {AGAIN}\n",
    )


def test_a_killed_apply_is_finished_by_a_rerun_without_duplicates(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory(db_path=tmp_path / "sandbox.db", latency_ms=40)
    server.store.ensure_dataviews([REF])
    seed(
        server.base_url,
        REF,
        [{"handler_type": "s3", "trigger_type": "none", "target_properties": {"file": "hand.csv"}}],
    )
    manifest = _manifest(tmp_path / "exports.yaml", count=12)
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "apply",
        "-f",
        str(manifest),
        "--endpoint",
        server.base_url,
        "--auto-approve",
        "--parallelism",
        "1",
    ]
    env = {**os.environ, **ENV}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        if line.endswith("[3/12]\n"):
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    process.stdout.close()
    server.set_faults(latency_ms=0)
    rerun = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "created as export" in rerun.stdout
    state = load_manifest([str(manifest)])
    assert_converged(server.base_url, state)
    files = sorted(str(e[4]["file"]) for e in unmarked(server.base_url, state))
    assert files == ["hand.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (),
            "Nothing to apply: pass -f MANIFEST (a file or directory), or a saved plan "
            "file written by 'exportctl plan --out FILE'.",
        ),
    ],
)
def test_usage_errors_exit_1(args: tuple[str, ...], message: str) -> None:
    assert _run("apply", *args) == (1, f"Error: {message}\n")


NOT_A_PLAN = "not a saved plan (a file written by `exportctl plan --out`). Pass manifests with -f"


@pytest.mark.parametrize(
    ("name", "content", "args", "message"),
    [
        (
            "exports.yaml",
            "version: 1\ndataviews: []\n",
            (),
            f"exports.yaml is a manifest (YAML), {NOT_A_PLAN}: 'exportctl apply -f exports.yaml'.",
        ),
        (  # named like a manifest, even one that does not parse
            "broken.yml",
            "version: [1\n",
            ("--sandbox",),
            f"broken.yml is a manifest (YAML), {NOT_A_PLAN}: "
            "'exportctl apply -f broken.yml --sandbox'.",
        ),
        (  # YAML with a top-level version, whatever its name
            "exports.txt",
            "version: 1\n",
            ("--sandbox", "scratch.db"),
            f"exports.txt is a manifest (YAML), {NOT_A_PLAN}: "
            "'exportctl apply -f exports.txt --sandbox=scratch.db'.",
        ),
        (
            "manifests",
            None,
            (),
            f"manifests is a directory, {NOT_A_PLAN}: 'exportctl apply -f manifests'.",
        ),
    ],
)
def test_a_manifest_given_as_planfile_is_named_with_the_command_it_needed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: str | None,
    args: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if content is None:
        (tmp_path / name).mkdir()
    else:
        (tmp_path / name).write_text(content, encoding="utf-8")
    assert _run("apply", name, *args) == (1, f"Error: {message}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no sandbox made


@pytest.mark.parametrize(("answer", "applies"), [("yes", True), ("y", False), ("", False)])
def test_on_a_terminal_only_yes_approves(answer: str, applies: bool) -> None:
    if applies:
        approve(interactive=True, ask=lambda: answer)
        return
    with pytest.raises(ApplyRefusedError) as caught:
        approve(interactive=True, ask=lambda: answer)
    assert caught.value.message == "Apply cancelled: only 'yes' approves. Nothing was changed."


def test_ctrl_c_at_the_prompt_interrupts_at_once_inside_the_event_loop() -> None:
    # asyncio.run's own SIGINT handler only cancels the task, which a blocking
    # prompt never notices: the user had to press Ctrl-C twice.
    answered: list[str] = []

    def ask() -> str:
        signal.raise_signal(signal.SIGINT)
        answered.append("no")
        return "no"

    async def prompt() -> None:
        approve(interactive=True, ask=ask)

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(prompt())
    assert answered == []


def _stopped_twice_after_two_changes(
    sandbox_factory: SandboxFactory, tmp_path: Path, *, as_json: bool
) -> tuple[int, str, str]:
    """An apply of 12 changes, one at a time, Ctrl-C'd twice while its third is out:
    its exit status, stdout and what it wrote to stderr after the first Ctrl-C."""
    server = sandbox_factory(db_path=tmp_path / "sandbox.db", latency_ms=40)
    server.store.ensure_dataviews([REF])
    manifest = _manifest(tmp_path / "exports.yaml", count=12)
    command = [sys.executable, "-m", "reconciler", "apply", "-f", str(manifest)]
    command += ["--endpoint", server.base_url, "--auto-approve", "--parallelism", "1"]
    command += ["--format", "json"] if as_json else []
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **ENV},
    )
    assert process.stdout is not None and process.stderr is not None
    progress = process.stderr if as_json else process.stdout  # JSON keeps stdout for itself
    for line in progress:
        if line.endswith("[1/12]\n"):
            server.set_faults(latency_ms=1_500)  # the third request stays out a while
        if line.endswith("[2/12]\n"):
            break
    process.send_signal(signal.SIGINT)
    assert process.stderr.readline() == "\n"
    assert process.stderr.readline().startswith("Interrupted: the requests in flight will finish")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    return process.returncode, out, err


def test_a_second_ctrl_c_aborts_at_once_and_says_what_may_have_changed(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """The first Ctrl-C waits for requests in flight (tests/cli/test_interrupt.py);
    a second one, while a slow request is still out, stops at once."""
    status, _, stderr = _stopped_twice_after_two_changes(sandbox_factory, tmp_path, as_json=False)
    assert (status, stderr) == (
        1,
        "Error: Apply interrupted. Changes already sent may have been applied. Run "
        "'exportctl plan' to see where things stand; applying again finishes the job "
        "without duplicates.\n",
    )


def test_an_apply_cut_short_reports_in_json_the_changes_it_made(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """A second Ctrl-C (or the --timeout deadline) ends apply at once; its JSON must
    still count what was applied, not claim nothing was."""
    status, out, _ = _stopped_twice_after_two_changes(sandbox_factory, tmp_path, as_json=True)
    document = json.loads(out)
    jsonschema.Draft202012Validator(load_schema("apply-result.schema.json")).validate(document)
    assert (status, document["summary"]["applied"]) == (1, 2)
    assert document["error"].startswith("Apply interrupted.")


def test_on_a_terminal_the_prompt_keeps_out_of_the_json_on_stdout(
    server: RunningSandbox, tmp_path: Path
) -> None:
    manifest = _manifest(tmp_path / "exports.yaml", count=1)
    command = [sys.executable, "-m", "reconciler", "apply", "-f", str(manifest)]
    command += ["--endpoint", server.base_url, "--format", "json"]
    main, terminal = pty.openpty()
    with os.fdopen(main, "wb", buffering=0) as keyboard:
        keyboard.write(b"yes\n")
        done = subprocess.run(
            command, stdin=terminal, capture_output=True, env={**os.environ, **ENV}, timeout=60
        )
    os.close(terminal)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"] == {"applied": 1, "failed": 0, "skipped": 0}
    assert b"Apply these changes? Only 'yes' is accepted." in done.stderr


def _json_apply(*args: str) -> tuple[int, dict[str, object], str]:
    """Run apply --format json; the exit code, stdout checked against its schema, stderr."""
    result = CliRunner().invoke(cli, ["apply", *args, "--format", "json"], env=ENV)
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(load_schema("apply-result.schema.json")).validate(document)
    return result.exit_code, document, result.stderr


def test_apply_json_is_a_schema_valid_document(server: RunningSandbox, tmp_path: Path) -> None:
    manifest = _manifest(tmp_path / "exports.yaml")
    args = ("-f", str(manifest), "--endpoint", server.base_url, "--auto-approve")
    code, document, _ = _json_apply(*args)
    assert (code, document["ok"], document["summary"]) == (
        0,
        True,
        {"applied": 2, "failed": 0, "skipped": 0},
    )
    assert _json_apply(*args)[:2] == (0, {**document, "summary": _none(), "scopes": []})


def _none() -> dict[str, int]:
    return {"applied": 0, "failed": 0, "skipped": 0}


def test_a_refused_apply_still_prints_a_json_document(
    server: RunningSandbox, tmp_path: Path
) -> None:
    """A CI step that parses stdout gets ok: false and the reason, not an empty string."""
    manifest = _manifest(tmp_path / "exports.yaml")
    code, document, stderr = _json_apply("-f", str(manifest), "--endpoint", server.base_url)
    assert code == 1
    assert document == {
        "format_version": "2.0",
        "ok": False,
        "error": NEEDS_APPROVAL,
        "summary": _none(),
        "preflight_failures": [],
        "scopes": [],
    }
    assert stderr.endswith(f"\nError: {NEEDS_APPROVAL}\n")  # after the plan it showed


def test_a_manifest_error_under_json_is_a_document_too(tmp_path: Path) -> None:
    manifest = tmp_path / "exports.yaml"
    manifest.write_text("version: 2\ndataviews: []\n", encoding="utf-8")
    code, document, stderr = _json_apply("-f", str(manifest), "--sandbox", str(tmp_path / "s.db"))
    assert (code, document["ok"]) == (1, False)
    assert stderr == f"Error: {document['error']}\n"
    assert f"{manifest}:1:10: version: unsupported version 2" in str(document["error"])
