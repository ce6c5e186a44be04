"""When to colour output, and the colour of each plan symbol.

Follows the conventions users expect from Terraform, git and the no-color.org
agreement: an explicit ``--color/--no-color`` wins; otherwise ``NO_COLOR``
(set to anything, even empty) turns colour off; otherwise colour only on a
real terminal that is not ``TERM=dumb``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO, Any

import click

__all__ = ["bold", "paint", "should_color"]

# Colours of the symbols of plan actions and field changes.
_SYMBOL_COLORS = {
    "+": "green",
    "~": "yellow",
    "-": "red",
    "-/+": "red",
    "<=": "cyan",
}


def should_color(
    stream: IO[Any], flag: bool | None, environ: Mapping[str, str] | None = None
) -> bool:
    """Decide once per command; ``environ`` defaults to ``os.environ`` (tests pass their own)."""
    if flag is not None:
        return flag
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, symbol: str, *, color: bool) -> str:
    """Colour ``text`` as ``symbol``'s action would be; unchanged without colour."""
    fg = _SYMBOL_COLORS.get(symbol)
    return click.style(text, fg=fg) if color and fg else text


def bold(text: str, *, color: bool, fg: str | None = None) -> str:
    """Headings, the summary and warnings: bold (and ``fg``) only when colouring."""
    return click.style(text, fg=fg, bold=True) if color else text
