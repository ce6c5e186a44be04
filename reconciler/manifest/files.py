"""Which files ``-f`` names: files as given, directories as their sorted YAML files.

A manifest that is not a file (``-f -``, standard input) comes as a
``ManifestText``: its text and the name diagnostics show for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.diagnostics import Diagnostic

__all__ = ["YAML_SUFFIXES", "ManifestText", "Source", "find_files"]

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ManifestText:
    """A manifest read elsewhere (stdin): its bytes, and its name in every diagnostic."""

    name: str
    raw: bytes

    def __str__(self) -> str:
        return self.name

    def read_bytes(self) -> bytes:
        return self.raw


Source = Path | ManifestText


def find_files(
    paths: Sequence[str | Path | ManifestText],
) -> tuple[list[Source], list[Diagnostic]]:
    """The manifest files in load order, and a diagnostic per unusable argument.

    A directory contributes its own ``*.yaml``/``*.yml`` files sorted by name
    (not its subdirectories: like Terraform, one directory is one unit), hidden
    ones left out (``-f .`` at a repository's top must not read
    ``.pre-commit-hooks.yaml``). A file named twice, directly or through its
    directory, is read once; a hidden file named directly is read.
    """
    found: list[Source] = []
    problems: list[Diagnostic] = []
    for given in paths:
        if isinstance(given, ManifestText):
            found.append(given)
            continue
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


def _unique(paths: list[Source]) -> list[Source]:
    seen: set[Path | ManifestText] = set()
    result = []
    for path in paths:
        real = path.resolve() if isinstance(path, Path) else path
        if real not in seen:
            seen.add(real)
            result.append(path)
    return result
