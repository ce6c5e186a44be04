"""``--sandbox [DB]`` never takes a plan, a manifest or another non-SQLite file as its DB.

The value is optional, so ``apply --sandbox plan.json`` reads the plan as the
database path. Every command that takes --sandbox refuses that while parsing
its options, says what the file looks like and how to write the command, and
leaves the file exactly as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.sandbox.files import SQLITE_HEADER
from tests.cli.support import MANIFEST, invoke
from tests.render.schemas import errors

pytestmark = pytest.mark.usefixtures("credentials")

TAIL = (
    "--sandbox takes an optional DB path, so the argument after it was read as the "
    "database. {advice}To name a sandbox database, write --sandbox=DB. {name} was "
    "left unchanged."
)
PLAN_ADVICE = (
    "To apply a saved plan against the sandbox, put the plan first: "
    "'exportctl apply plan.json --sandbox'. "
)
PLAN_TEXT = '{\n  "kind": "exportctl-plan-file",\n  "format_version": "2.0"\n}\n'


def _refusal(name: str, what: str, advice: str = "") -> str:
    head = f"--sandbox was given {name!r}, which {what}, so it cannot be the sandbox database. "
    return "Error: " + head + TAIL.format(advice=advice, name=name) + "\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding a manifest, the current directory as in a user's shell."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exports.yaml").write_text(MANIFEST, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "name", "content", "message"),
    [
        (
            ["apply", "--sandbox", "plan.json"],
            "plan.json",
            PLAN_TEXT,
            _refusal("plan.json", "looks like a saved plan (JSON)", PLAN_ADVICE),
        ),
        (
            ["plan", "-f", "exports.yaml", "--sandbox", "plan.json"],
            "plan.json",
            PLAN_TEXT,
            _refusal("plan.json", "looks like a saved plan (JSON)", PLAN_ADVICE),
        ),
        (
            ["apply", "--sandbox", "other.yaml", "--auto-approve"],
            "other.yaml",
            MANIFEST,
            _refusal(
                "other.yaml",
                "looks like a manifest (YAML)",
                "Pass manifests with -f: 'exportctl apply -f other.yaml --sandbox'. ",
            ),
        ),
        (
            ["drift", "-f", "exports.yaml", "--sandbox=other.yaml"],
            "other.yaml",
            MANIFEST,
            _refusal(
                "other.yaml",
                "looks like a manifest (YAML)",
                "Pass manifests with -f: 'exportctl drift -f other.yaml --sandbox'. ",
            ),
        ),
        (
            ["import", "mammoth", "--dataview", "1/1/123/456", "--sandbox", "other.yaml"],
            "other.yaml",
            MANIFEST,
            _refusal("other.yaml", "looks like a manifest (YAML)"),
        ),
        (
            ["plan", "-f", "exports.yaml", "--sandbox", "data.csv"],
            "data.csv",
            "id,name\n1,ada\n",
            _refusal("data.csv", "is not an SQLite database"),
        ),
    ],
)
def test_a_file_that_is_no_database_is_refused_and_left_unchanged(
    workdir: Path, args: list[str], name: str, content: str, message: str
) -> None:
    (workdir / name).write_text(content, encoding="utf-8")
    before = sorted(p.name for p in workdir.iterdir())
    result = invoke(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message)
    assert (workdir / name).read_text(encoding="utf-8") == content
    assert sorted(p.name for p in workdir.iterdir()) == before  # no -wal, -shm or journal


def test_a_directory_is_refused(workdir: Path) -> None:
    (workdir / "manifests").mkdir()
    result = invoke("plan", "--sandbox", "manifests")
    advice = "Pass manifests with -f: 'exportctl plan -f manifests --sandbox'. "
    assert result.stderr == _refusal("manifests", "is a directory", advice)
    assert result.exit_code == 1


def test_a_real_saved_plan_survives_the_mistake_and_applies_when_written_right(
    workdir: Path,
) -> None:
    made = invoke("plan", "-f", "exports.yaml", "--sandbox", "--out", "plan.json")
    assert made.exit_code == 0, made.stderr
    saved = (workdir / "plan.json").read_bytes()

    wrong = invoke("apply", "--sandbox", "plan.json")
    assert wrong.stderr == _refusal("plan.json", "looks like a saved plan (JSON)", PLAN_ADVICE)
    assert (workdir / "plan.json").read_bytes() == saved

    right = invoke("apply", "plan.json", "--sandbox")
    assert right.exit_code == 0, right.stderr
    assert "3 applied, 0 failed" in right.stdout


@pytest.mark.parametrize("existing", ["missing", "empty", "database"])
def test_a_missing_empty_or_sqlite_file_is_a_sandbox_database(workdir: Path, existing: str) -> None:
    db = workdir / "sandbox.db"
    if existing == "empty":
        db.touch()
    if existing == "database":  # left by an earlier run
        assert invoke("plan", "-f", "exports.yaml", "--sandbox", db).exit_code == 0
    result = invoke("plan", "-f", "exports.yaml", "--sandbox", db)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith(
        "Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy, 0 to adopt.\n"
    )
    assert db.read_bytes().startswith(SQLITE_HEADER)


@pytest.mark.parametrize(
    ("args", "schema"),
    [
        (["apply", "--sandbox", "plan.json", "--format", "json"], "apply-result.schema.json"),
        (
            ["plan", "--format=json", "-f", "exports.yaml", "--sandbox", "plan.json"],
            "plan.schema.json",
        ),
        (
            ["drift", "-f", "exports.yaml", "--sandbox", "plan.json", "--format", "json"],
            "drift-report.schema.json",
        ),
    ],
)
def test_with_format_json_the_mistake_is_also_a_document_on_stdout(
    workdir: Path, args: list[str], schema: str
) -> None:
    """Found while the options are parsed, before --format itself may have been read."""
    assert invoke("plan", "-f", "exports.yaml", "--sandbox", "--out", "plan.json").exit_code == 0
    result = invoke(*args)
    message = _refusal("plan.json", "looks like a saved plan (JSON)", PLAN_ADVICE)
    assert (result.exit_code, result.stderr) == (1, message)
    document = json.loads(result.stdout)
    assert errors(schema, document) == []
    assert document["error"] == message.removeprefix("Error: ").rstrip("\n")
