"""Which files ``-f`` names: files as given, directories as their sorted YAML files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconciler.diagnostics import Diagnostic

__all__ = ["YAML_SUFFIXES", "find_files"]

YAML_SUFFIXES = (".yaml", ".yml")


def find_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The manifest files in load order, and a diagnostic per unusable argument.

    A directory contributes its own ``*.yaml``/``*.yml`` files sorted by name
    (not its subdirectories: like Terraform, one directory is one unit), hidden
    ones left out (``-f .`` at a repository's top must not read
    ``.pre-commit-hooks.yaml``). A file named twice, directly or through its
    directory, is read once; a hidden file named directly is read.
    """
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            members = sorted(
                p
                for p in path.iterdir()
                if p.suffix in YAML_SUFFIXES and not p.name.startswith(".") and p.is_file()
            )
            if not members:
                problems.append(Diagnostic(f"{path}: no *.yaml or *.yml files in this directory"))
            found.extend(members)
        elif path.is_file():
            found.append(path)
        else:
            problems.append(Diagnostic(f"{path}: no such file or directory"))
    return _unique(found), problems


def _unique(paths: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    result = []
    for path in paths:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            result.append(path)
    return result
