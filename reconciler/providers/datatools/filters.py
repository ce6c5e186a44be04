"""Which filter keys the server keeps, for templates and for jobs.

The API never rejects an unknown filter key: it drops it without a word. Two
different rules do so (the server has two code paths):

- a template's ``configuration.filters`` is rebuilt keeping only
  ``columns``, ``where_conditions``, ``limit``, ``order_by``, ``group_by`` and
  ``date_range``, and of those only values that are not empty (``limit: 0``,
  ``[]`` and ``""`` go too);
- a job's ``filters`` keep ``columns``, ``where_conditions``, ``limit``,
  ``offset``, ``order_by`` and ``group_by``, empty or not (``date_range`` is
  dropped here).

So a manifest and a listing compare equal only after both went through the
same rule, and ``validate`` can warn about every key that would vanish.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["FilterNote", "FilterRule", "dropped_filters", "kept_filters"]


class FilterRule(Enum):
    """One of the server's two filter rules: the keys it keeps, and whether empty ones go."""

    TEMPLATE = (
        ("columns", "where_conditions", "limit", "order_by", "group_by", "date_range"),
        True,
    )
    JOB = (("columns", "where_conditions", "limit", "offset", "order_by", "group_by"), False)

    @property
    def keys(self) -> tuple[str, ...]:
        keys: tuple[str, ...] = self.value[0]
        return keys

    @property
    def drops_empty(self) -> bool:
        drops: bool = self.value[1]
        return drops


@dataclass(frozen=True)
class FilterNote:
    """A filter key the server will not use as written (dropped, or ignored), and why."""

    key: str
    reason: str


def kept_filters(filters: Mapping[str, Any], rule: FilterRule) -> dict[str, Any]:
    """The filters as the server stores them under ``rule``.

    For templates the server also turns ``limit`` into an ``int``; values the
    server would refuse (a negative ``limit``, ``columns`` that is not a list)
    are the manifest schema's business and pass through unchanged here.
    """
    kept: dict[str, Any] = {}
    for key, value in filters.items():
        if key not in rule.keys or (rule.drops_empty and not value):
            continue
        kept[key] = _as_int(value) if rule is FilterRule.TEMPLATE and key == "limit" else value
    return kept


def dropped_filters(filters: Mapping[str, Any], rule: FilterRule) -> list[FilterNote]:
    """Every key of ``filters`` that the server would drop under ``rule``, in order."""
    dropped = []
    for key, value in filters.items():
        if key not in rule.keys:
            kept = ", ".join(rule.keys)
            dropped.append(FilterNote(key, f"the server keeps only {kept}"))
        elif rule.drops_empty and not value:
            dropped.append(FilterNote(key, f"the server drops an empty value ({value!r})"))
    return dropped


def _as_int(value: Any) -> Any:
    """``int(value)`` as the server does for a template's limit, when that is possible."""
    if not isinstance(value, int | float | str):
        return value
    try:
        return int(value)
    except (ValueError, OverflowError):
        return value
