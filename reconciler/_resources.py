"""Where the JSON Schemas are, installed or in a checkout.

The schemas live in the repository's top-level ``schemas/`` (editors and users
point at them there); a wheel carries a copy as ``reconciler/_schemas``. An
editable install has only the former, a wheel only the latter.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["load_schema", "schema_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def schema_dir() -> Path:
    for candidate in (_PACKAGE_DIR / "_schemas", _PACKAGE_DIR.parent / "schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("exportctl's JSON Schemas are missing: reinstall exportctl")


@cache
def load_schema(relative: str) -> dict[str, Any]:
    """Load a schema by its path under ``schemas/``, e.g. ``targets/s3.json``."""
    with (schema_dir() / relative).open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema
