"""Secret masking: what the API shows instead of a secret target field."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from reconciler.providers.mammoth import handlers

__all__ = ["mask_secrets"]

# Field names repeat across thousands of rows; the regex need run once per name.
_is_secret = cache(handlers.is_secret_field)


def mask_secrets(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` with every secret-named field (at any depth) replaced by the mask."""
    masked: dict[str, Any] = {}
    for name, child in value.items():
        if child is not None and _is_secret(str(name)):
            masked[name] = handlers.MASK
        elif isinstance(child, Mapping):
            masked[name] = mask_secrets(child)
        else:
            masked[name] = child
    return masked
