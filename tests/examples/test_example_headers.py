"""The commands in the example manifests' header comments run as they are written.

Each example's opening comment tells a reader how to try it; those lines are
copied into a shell from the repository's top, so they must work verbatim.
The ones that use the embedded sandbox (no account, no server) are run here,
from a copy of ``examples/`` so the sandbox's files land in a scratch folder,
with the variables the header's own ``export`` line sets.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli

EXAMPLES = Path(__file__).parents[2] / "examples"
_QUOTED = re.compile(r"`((?:[A-Z_]+=\S+ )*exportctl [^`]+)`")
_LINE = re.compile(r"^#\s+((?:[A-Z_]+=\S+ )*exportctl .+)$")


def _header(path: Path) -> list[str]:
    """The comment lines before the first line of YAML."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[: next(i for i, line in enumerate(lines) if not line.startswith("#"))]


def _assigned(words: list[str]) -> dict[str, str]:
    """``NAME=value`` words as variables."""
    pairs = [word.partition("=") for word in words]
    return {name: value for name, _, value in pairs}


def _variables(path: Path) -> dict[str, str]:
    """What the header's ``export A=B C=D`` lines set."""
    variables: dict[str, str] = {}
    for line in _header(path):
        if line.lstrip("# ").startswith("export "):
            variables.update(_assigned(shlex.split(line.lstrip("# "))[1:]))
    return variables


def _commands(path: Path) -> list[list[str]]:
    """The header's ``exportctl`` commands as words, with their leading ``VAR=value``."""
    lines = _header(path)
    return [
        shlex.split(text) for line in lines for text in _QUOTED.findall(line) or _LINE.findall(line)
    ]


def _runnable(words: list[str]) -> bool:
    """Whether the command needs nothing but this checkout: the embedded sandbox, or
    validate. A served sandbox (``sandbox serve``, ``MAMMOTH_BASE_URL``) is left to the
    tests that start one."""
    args = words[words.index("exportctl") + 1 :]
    return bool(args) and (args[0] == "validate" or "--sandbox" in args)


RUNNABLE = [
    (example, words)
    for example in sorted(EXAMPLES.rglob("*.yaml"))
    for words in _commands(example)
    if _runnable(words)
]


def test_every_example_manifest_tells_how_to_try_it_in_the_sandbox() -> None:
    manifests = {p.name for p in EXAMPLES.glob("*.yaml")}
    assert manifests and manifests <= {example.name for example, _ in RUNNABLE}


@pytest.mark.parametrize(
    ("example", "words"),
    [pytest.param(e, w, id=f"{e.name}: {shlex.join(w)}") for e, w in RUNNABLE],
)
def test_a_header_command_runs_verbatim(
    example: Path, words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)  # the commands name examples/...; the sandbox's files land here
    at = words.index("exportctl")
    env = {**_variables(example), **_assigned(words[:at])}
    result = CliRunner().invoke(cli, words[at + 1 :], env=env)
    assert result.exit_code == 0, result.output
