"""The command group: exit codes and the no-traceback promise."""

import subprocess
import sys

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
