"""The CLI's edges a new user meets in the first hour, over the sandbox on a real socket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from tests.apply.helpers import REF2, seed
from tests.cli.support import MANIFEST, invoke, lines
from tests.render.schemas import errors
from tests.sandboxes import RunningSandbox

pytestmark = pytest.mark.usefixtures("credentials")


def _run(command: str, server: RunningSandbox, manifest: Path, *extra: str) -> list[str]:
    return [command, "-f", str(manifest), "--endpoint", server.base_url, *extra]


@pytest.mark.parametrize("command", ["plan", "drift"])
@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "key=slaes",
            "Error: --target 'key=slaes' matches nothing: no export of the selected "
            "dataviews, in the manifest or live, has key 'slaes'; did you mean 'sales'? "
            "Check the spelling, or leave the --target out.",
        ),
        (
            "key=quarterly-report",
            "Error: --target 'key=quarterly-report' matches nothing: no export of the "
            "selected dataviews, in the manifest or live, has key 'quarterly-report'. "
            "Check the spelling, or leave the --target out.",
        ),
        (
            "handler=bigquery",
            "Error: --target 'handler=bigquery' matches nothing: no export of the selected "
            "dataviews, in the manifest or live, has type 'bigquery'. Check the spelling, or "
            "leave the --target out.",
        ),
    ],
)
def test_a_target_that_matches_nothing_is_an_error(
    server: RunningSandbox, manifest: Path, command: str, target: str, message: str
) -> None:
    result = invoke(*_run(command, server, manifest, "--target", target))
    assert (result.exit_code, lines(result.stderr), result.stdout) == (1, [message], "")


def test_a_target_key_that_exists_only_live_is_kept(server: RunningSandbox, manifest: Path) -> None:
    live_only = {"handler_type": "s3", "trigger_type": "none", "run_immediately": False}
    seed(server.base_url, REF2, [{**live_only, "target_properties": {"file": "old.csv"}}])
    result = invoke(*_run("plan", server, manifest, "--target", "key=s3:old.csv"))
    assert result.exit_code == 0, result.stderr
    assert "  ? 1/1/123/457 s3:old.csv (s3, export 1): " in result.stdout


def _with_stdin(text: str, *args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=text)


def test_dash_reads_the_manifest_from_stdin(server: RunningSandbox, manifest: Path) -> None:
    from_file = invoke(*_run("plan", server, manifest))
    from_stdin = _with_stdin(MANIFEST, "plan", "-f", "-", "--endpoint", server.base_url)
    assert (from_stdin.exit_code, from_stdin.stdout) == (0, from_file.stdout)


def test_a_broken_manifest_on_stdin_is_named_stdin() -> None:
    result = _with_stdin("version: 1\ndataviews: 3\n", "validate", "-f", "-")
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        "<stdin>:2:12: dataviews: expected a list, got 3",
        "Invalid: 1 error.",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("plan", "-f", "-", "--out", "p.plan"),
            "Error: --out cannot save a plan of a manifest read from standard input (-f -): "
            "'exportctl apply FILE' re-reads the manifest the plan was made from. Write the "
            "manifest to a file and pass -f FILE.",
        ),
        (
            ("validate", "-f", "-", "-f", "-"),
            "Error: -f - (standard input) can be given only once: it is read once.",
        ),
    ],
)
def test_stdin_is_refused_where_it_cannot_work(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = _with_stdin(MANIFEST, *args)
    assert (result.exit_code, lines(result.stderr)) == (1, [message])
    assert not (tmp_path / "p.plan").exists()


@pytest.mark.parametrize(
    ("command", "schema"), [("plan", "plan.schema.json"), ("drift", "drift-report.schema.json")]
)
def test_json_output_is_an_error_document_when_the_command_fails(
    server: RunningSandbox, manifest: Path, command: str, schema: str
) -> None:
    result = invoke(*_run(command, server, manifest, "--format", "json", "--target", "key=nope"))
    document = json.loads(result.stdout)
    assert result.exit_code == 1
    assert errors(schema, document) == []
    assert document["error"] == lines(result.stderr)[0].removeprefix("Error: ")
    assert document["scopes"] == []
    assert document.get("in_sync", False) is False


def test_drift_json_on_a_broken_manifest_is_never_in_sync(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\ndataviews: 3\n", encoding="utf-8")
    result = invoke("drift", "-f", broken, "--sandbox", tmp_path / "s.db", "--format", "json")
    document = json.loads(result.stdout)
    assert (result.exit_code, document["in_sync"]) == (1, False)
    assert (
        document["error"]
        == f"{broken}:2:12: dataviews: expected a list, got 3\n1 error in the manifest."
    )


def test_the_apply_summary_leaves_out_dataviews_with_nothing_done(
    server: RunningSandbox, manifest: Path
) -> None:
    first = invoke(*_run("apply", server, manifest, "--auto-approve"))
    assert first.exit_code == 0, first.stderr
    manifest.write_text(MANIFEST.replace("summary.csv", "summary2.csv"), encoding="utf-8")
    result = invoke(*_run("apply", server, manifest, "--auto-approve"))
    assert result.exit_code == 0, result.stderr
    assert lines(result.stdout)[-2:] == [
        "Apply complete: 1 applied, 0 failed, 0 skipped.",
        "  dataview 1/1/123/457: 1 applied, 0 failed, 0 skipped",
    ]


@pytest.fixture
def planned_in_a_checkout(
    server: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A checkout with exports/ and a plan saved to build/, made from the checkout's top."""
    checkout = tmp_path / "checkout"
    (checkout / "exports").mkdir(parents=True)
    (checkout / "build").mkdir()
    (checkout / "exports" / "main.yaml").write_text(MANIFEST, encoding="utf-8")
    monkeypatch.chdir(checkout)
    made = invoke("plan", "-f", "exports", "--endpoint", server.base_url, "--out", "build/x.plan")
    assert made.exit_code == 0, made.stderr
    return checkout


def test_a_saved_plan_finds_its_manifest_relative_to_itself(
    server: RunningSandbox, planned_in_a_checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(planned_in_a_checkout.parent)  # apply from elsewhere
    plan = Path("checkout") / "build" / "x.plan"
    result = invoke("apply", plan, "--endpoint", server.base_url)
    assert result.exit_code == 0, result.stderr
    assert lines(result.stdout)[-1] == "  dataview 1/1/123/457: 1 applied, 0 failed, 0 skipped"


def test_a_saved_plan_whose_manifest_is_gone_says_where_it_looked(
    server: RunningSandbox, planned_in_a_checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved = planned_in_a_checkout.parent / "x.plan"
    (planned_in_a_checkout / "build" / "x.plan").rename(moved)
    monkeypatch.chdir(planned_in_a_checkout.parent)
    result = invoke("apply", "x.plan", "--endpoint", server.base_url)
    top = planned_in_a_checkout.parent
    assert (result.exit_code, lines(result.stderr)) == (
        1,
        [
            "Error: Saved plan x.plan was made from manifest files that are not here: exports "
            f"(looked for {top.parent / 'exports'} and {top / 'exports'}). Apply it from the "
            "checkout it was planned in (the paths are kept relative to the plan file and to "
            "the directory plan ran in), or plan again."
        ],
    )


def test_a_failed_drift_writes_its_error_document_to_the_report_too(
    server: RunningSandbox, manifest: Path, tmp_path: Path
) -> None:
    """Alerting that reads the report must not find the last run's "in sync" there."""
    report = tmp_path / "drift.json"
    result = invoke(*_run("drift", server, manifest, "--report", str(report), "--target", "key=x"))
    document = json.loads(report.read_text(encoding="utf-8"))
    assert result.exit_code == 1
    assert errors("drift-report.schema.json", document) == []
    assert (document["in_sync"], document["scopes"]) == (False, [])
    assert document["error"] == lines(result.stderr)[0].removeprefix("Error: ")
