"""No command module imports another: shared pieces live in options, session or render.

Commands load lazily, one module each (``reconciler.cli.main``); a command that
imports another drags that one's dependencies in and ties the two together, so
what both need belongs in ``cli/options.py``, ``cli/session.py`` or ``render/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import reconciler.cli

CLI = Path(reconciler.cli.__file__).parent
COMMANDS = sorted(CLI.glob("*_cmd.py"))


def _imported(path: Path) -> set[str]:
    """Every module ``path`` imports, ``from package import module`` included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_there_are_commands_to_check() -> None:
    assert len(COMMANDS) > 1


@pytest.mark.parametrize("path", COMMANDS, ids=[p.stem for p in COMMANDS])
def test_a_command_imports_no_other_command(path: Path) -> None:
    others = {f"reconciler.cli.{p.stem}" for p in COMMANDS if p != path}
    assert _imported(path) & others == set()
