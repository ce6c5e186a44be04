"""Paths inside a manifest document and how diagnostics spell them.

A path is a tuple of mapping keys and list indexes; users read it as
``dataviews[0].exports[2].target_properties.file``.
"""

from __future__ import annotations

import json
import re
from typing import TypeAlias

__all__ = ["Path", "format_path"]

Path: TypeAlias = tuple[str | int, ...]

_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path: Path) -> str:
    """``('dataviews', 0, 'key')`` -> ``dataviews[0].key``; odd keys are quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_NAME.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text
