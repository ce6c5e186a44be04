"""The command group: exit codes and the no-traceback promise."""

import os
import subprocess
import sys
from pathlib import Path

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
