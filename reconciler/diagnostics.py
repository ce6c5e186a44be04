"""Problems collected as data rather than raised one at a time.

The loader, the validator and preflight gather every problem they find, each
with where it is, so a user fixes them all in one round (Terraform's
``tfdiags`` habit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["SHOWN_DIAGNOSTICS", "Diagnostic", "Severity", "SourceLocation", "first_lines"]


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A position in a manifest file; line and column count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem: where it is, the path inside the document, and what is wrong.

    ``str()`` gives the one-line form every tool prints:
    ``FILE:LINE:COLUMN: <path>: <message>``.
    """

    message: str
    location: SourceLocation | None = None
    path: str = ""
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        parts = [str(self.location)] if self.location else []
        if self.path:
            parts.append(self.path)
        if self.severity is Severity.WARNING:
            parts.append("warning")
        parts.append(self.message)
        return ": ".join(parts)

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "severity": self.severity.value,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
            "path": self.path,
            "message": self.message,
        }


# A file of 600,000 unknown keys is one mistake (a wrong file, a bad
# generator), not 600,000 lines worth printing.
SHOWN_DIAGNOSTICS = 50


def first_lines(diagnostics: Sequence[Diagnostic]) -> list[str]:
    """The first ``SHOWN_DIAGNOSTICS`` diagnostics as lines, and how many more there are."""
    lines = [str(d) for d in diagnostics[:SHOWN_DIAGNOSTICS]]
    if len(diagnostics) > SHOWN_DIAGNOSTICS:
        lines.append(f"... and {len(diagnostics) - SHOWN_DIAGNOSTICS} more, not shown.")
    return lines
