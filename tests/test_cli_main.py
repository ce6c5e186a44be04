"""The command group: exit codes and the no-traceback promise."""

import os
import re
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import click
from click.testing import CliRunner

from reconciler.cli.main import cli


def test_unknown_command_is_a_usage_error_that_exits_1_not_2() -> None:
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 1
    assert "No such command 'no-such-command'" in result.output


def test_help_teaches_the_first_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "exportctl plan --sandbox -f examples/exports.yaml" in result.output


def test_every_plan_file_a_help_example_saves_is_one_git_ignores() -> None:
    """A plan file holds the plan's details: the name the help teaches must be one the
    repository's .gitignore leaves out (``*.plan``, ``*.plan.json``), or following the
    help leaves it for ``git add``."""
    ignore = (Path(__file__).parents[1] / ".gitignore").read_text(encoding="utf-8")
    patterns = [line for line in ignore.splitlines() if line and not line.startswith("#")]
    with click.Context(cli) as ctx:
        commands = cli.list_commands(ctx)
    examples = {
        name: [
            line
            for line in CliRunner().invoke(cli, [name, "--help"]).output.splitlines()
            if line.lstrip().startswith("exportctl ")
        ]
        for name in commands
    }
    saved = {  # import's --out is a manifest: only plan's is a plan file
        name: [
            found for line in lines for found in re.findall(r"exportctl plan .*--out (\S+)", line)
        ]
        for name, lines in examples.items()
    }
    assert saved["plan"] and saved["apply"]
    for command, names in saved.items():
        for name in names:
            assert any(fnmatch(name, pattern) for pattern in patterns), (command, name)


def test_python_dash_m_runs_the_same_cli() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0
    assert completed.stdout.startswith("exportctl, version ")


def test_the_program_keeps_its_exit_status_and_all_its_output(tmp_path: Path) -> None:
    """``run`` ends with ``os._exit``: nothing written may be lost, no status changed."""
    manifest = tmp_path / "exports.yaml"
    manifest.write_text("version: 1\ndataviews: [{workspace_id: 1}]\n")
    program = [sys.executable, "-m", "reconciler"]
    broken = subprocess.run(
        [*program, "validate", "-f", str(manifest)], capture_output=True, text=True, check=False
    )
    inline_broken = CliRunner().invoke(cli, ["validate", "-f", str(manifest)])
    assert (broken.returncode, broken.stderr) == (1, inline_broken.stderr)
    assert broken.stderr.endswith("Invalid: 4 errors.\n")
    completion = subprocess.run(
        [*program, "completion", "bash"], capture_output=True, text=True, check=False
    )
    inline = CliRunner().invoke(cli, ["completion", "bash"])
    assert (completion.returncode, completion.stdout) == (0, inline.stdout)


def test_a_reader_that_closed_the_pipe_gets_status_1_and_no_noise() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `exportctl --help | head -0`
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "reconciler", "--help"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (completed.returncode, completed.stderr) == (1, "")
