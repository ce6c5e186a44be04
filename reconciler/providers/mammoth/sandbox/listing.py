"""The list endpoint's query language: filters, ``fields``, ``sort``, paging.

Parsing turns every query parameter into whitelisted column names before any
SQL is built; anything unknown is a 400 naming the parameter, in the
``extra`` list shape the API uses for validation errors. Unknown parameters
are ignored, as the real server does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from reconciler.providers.mammoth import handlers
from reconciler.providers.mammoth.sandbox.masking import mask_secrets
from reconciler.sandbox.problems import HttpProblem, bad_request

__all__ = ["FIELD_PRESETS", "ListQuery", "parse_fields", "parse_list_query", "render_export"]

_MIN = (
    "id",
    "dataview_id",
    "sequence",
    "sub_sequence",
    "handler_type",
    "trigger_type",
    "end_of_pipeline",
    "status",
    "target_properties",
    "runnable",
)
_STANDARD = (
    *_MIN,
    "reordered",
    "data_pass_through",
    "additional_properties",
    "condition",
    "last_modified_time",
    "execution_start_time",
    "execution_end_time",
)
_FULL = (*_STANDARD, "last_run_result", "error_info")
FIELD_PRESETS: dict[str, tuple[str, ...]] = {
    "__min": _MIN,
    "__standard": _STANDARD,
    "__full": _FULL,
}
_OBJECT_FIELDS = frozenset(
    {"target_properties", "additional_properties", "condition", "last_run_result", "error_info"}
)
_SORTABLE = tuple(name for name in _FULL if name not in _OBJECT_FIELDS)
_SORT_TERM = re.compile(r"\(\s*(\w+)\s*:\s*(\w+)\s*\)")
MAX_LIMIT = 100
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class ListQuery:
    fields: tuple[str, ...]
    filters: tuple[tuple[str, Any], ...]
    order_by: tuple[tuple[str, str], ...]
    limit: int
    offset: int


def _invalid(name: str, message: str) -> HttpProblem:
    return bad_request(
        f"query parameter {name}: {message}", [{"key": name, "message": message, "source": "query"}]
    )


_INTEGER = re.compile(r"-?[0-9]+")
_SQL_MAX = 2**63 - 1  # SQLite's largest integer


def _parse_int(name: str, text: str, low: int, high: int | None) -> int:
    """A query integer within ``low..high`` (``high`` None: as large as SQLite stores)."""
    bounds = f"between {low} and {high}" if high is not None else f"{low} or more"
    high = _SQL_MAX if high is None else high
    # ASCII only: int() would also read other scripts' digits ("٣" is 3).
    if not _INTEGER.fullmatch(text):
        raise _invalid(name, f"must be an integer {bounds}, got {text!r}")
    value = int(text)
    if value < low or value > high:
        raise _invalid(name, f"must be an integer {bounds}, got {value}")
    return value


def _parse_bool(name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _invalid(name, f"must be true or false, got {text!r}")


def _parse_choice(choices: tuple[str, ...]) -> Callable[[str, str], str]:
    def parse(name: str, text: str) -> str:
        if text not in choices:
            raise _invalid(name, f"must be one of {', '.join(choices)}; got {text!r}")
        return text

    return parse


# query parameter -> (column, parser). Note the API's own spelling "reorderd".
_FILTERS: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "sequence": ("sequence", lambda name, text: _parse_int(name, text, -(2**62), 2**62)),
    "status": ("status", _parse_choice(handlers.STATUSES)),
    "reorderd": ("reordered", _parse_bool),
    "handler_type": ("handler_type", _parse_choice(handlers.HANDLER_TYPES)),
    "end_of_pipeline": ("end_of_pipeline", _parse_bool),
    "runnable": ("runnable", _parse_bool),
}


def parse_fields(text: str | None) -> tuple[str, ...]:
    """``__min``/``__standard``/``__full`` or a comma list (presets may be mixed in)."""
    chosen: list[str] = []
    for token in (text or "__standard").split(","):
        name = token.strip()
        names = FIELD_PRESETS.get(name, (name,))
        if names[0] not in _FULL:
            known = ", ".join([*FIELD_PRESETS, *_FULL])
            raise _invalid("fields", f"unknown field {name!r}; use any of {known}")
        chosen.extend(n for n in names if n not in chosen)
    return tuple(chosen)


def _parse_sort(text: str | None) -> tuple[tuple[str, str], ...]:
    text = text if text is not None else "(id:asc)"
    terms = _SORT_TERM.findall(text)
    if not terms or _SORT_TERM.sub("", text).replace(",", "").strip():
        raise _invalid("sort", f"expected terms like (sequence:desc),(id:asc); got {text!r}")
    for name, direction in terms:
        if name not in _SORTABLE:
            raise _invalid("sort", f"cannot sort by {name!r}; use one of {', '.join(_SORTABLE)}")
        if direction not in ("asc", "desc"):
            raise _invalid("sort", f"direction must be asc or desc, got {direction!r}")
    # id last, so every page boundary is stable.
    if all(name != "id" for name, _ in terms):
        terms.append(("id", "asc"))
    return tuple(terms)


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    filters = tuple(
        (column, parse(name, params[name]))
        for name, (column, parse) in _FILTERS.items()
        if params.get(name) not in (None, "")
    )
    return ListQuery(
        fields=parse_fields(params.get("fields")),
        filters=filters,
        order_by=_parse_sort(params.get("sort")),
        limit=_parse_int("limit", params.get("limit", str(DEFAULT_LIMIT)), 0, MAX_LIMIT),
        offset=_parse_int("offset", params.get("offset", "0"), 0, None),
    )


def next_page_query(params: Mapping[str, str], query: ListQuery) -> str:
    """The same query string with the offset moved one page on."""
    moved = {**params, "limit": str(query.limit), "offset": str(query.offset + query.limit)}
    return urlencode(moved)


def render_export(record: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """An export as the API shows it: only the chosen fields, secrets masked."""
    shown = {name: record[name] for name in fields}
    if shown.get("target_properties") is not None:
        shown["target_properties"] = mask_secrets(shown["target_properties"])
    return shown
