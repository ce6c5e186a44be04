"""``exportctl completion``: the script for each shell, and completion that works."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli
from tests.cli.support import invoke


@pytest.mark.parametrize(
    ("shell", "hook"),
    [
        ("bash", "_EXPORTCTL_COMPLETE=bash_complete"),
        ("zsh", "_EXPORTCTL_COMPLETE=zsh_complete"),
        ("fish", "_EXPORTCTL_COMPLETE=fish_complete"),
    ],
)
def test_each_shell_gets_a_script_that_calls_exportctl_back(shell: str, hook: str) -> None:
    result = invoke("completion", shell)
    assert result.exit_code == 0, result.stderr
    assert hook in result.stdout


def test_an_unknown_shell_is_refused_with_the_choices() -> None:
    result = invoke("completion", "tcsh")
    assert result.exit_code == 1
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.stderr


def _complete(words: str) -> list[str]:
    env = {
        "_EXPORTCTL_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    result = CliRunner().invoke(cli, [], prog_name="exportctl", env=env)
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_the_script_completes_commands_options_and_choices() -> None:
    assert _complete("exportctl pl") == ["plan"]
    assert "--preflight" in _complete("exportctl plan --pre")
    assert _complete("exportctl plan --format ") == ["text", "json", "markdown"]
