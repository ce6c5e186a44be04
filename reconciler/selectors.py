"""``--target`` / ``--exclude`` selectors: narrow a plan to some exports.

Accepted forms (``NAME=VALUE``; several selectors may be given):

- ``dataview=456``: every export of dataview id 456 (in any workspace);
- ``dataview=1/1/123/456``: every export of that exact dataview;
- ``dataview=456/monthly-sales`` or ``dataview=1/1/123/456/monthly-sales``:
  one export of that dataview, by manifest key;
- ``key=monthly-sales``: exports with that key in every dataview;
- ``handler=s3``: exports of that handler type (either side of a replace).

A change is kept when it matches at least one target (or no target is given)
and no exclude. Unmanaged exports match by their label (``s3:legacy.csv``).

A selector naming a dataview the manifest does not have is an error: a typo
in a cron job's ``--target`` would otherwise report "in sync" forever. (Keys
are not checked: a key may exist only live, e.g. an export to delete.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from reconciler.errors import ConfigError
from reconciler.model import DataviewRef, DesiredState
from reconciler.plan import Change, Plan
from reconciler.providers.mammoth.handlers import HANDLER_TYPES

__all__ = ["Selector", "parse_selector", "select_dataviews", "select_plan"]

FORMS = (
    "dataview=ID, dataview=W/P/D/V, dataview=ID/KEY, dataview=W/P/D/V/KEY, key=KEY, handler=TYPE"
)


@dataclass(frozen=True)
class Selector:
    """One parsed selector; ``None`` fields match anything."""

    text: str
    dataview_id: int | None = None
    ref: DataviewRef | None = None
    key: str | None = None
    handler: str | None = None

    def matches_dataview(self, ref: DataviewRef) -> bool:
        """Whether some export of dataview ``ref`` may match."""
        if self.ref is not None:
            return self.ref == ref
        return self.dataview_id is None or self.dataview_id == ref.dataview_id

    def covers_dataview(self, ref: DataviewRef) -> bool:
        """Whether every export of dataview ``ref`` matches."""
        names_dataview = self.ref is not None or self.dataview_id is not None
        whole = names_dataview and self.key is None and self.handler is None
        return whole and self.matches_dataview(ref)

    def matches(self, ref: DataviewRef, change: Change) -> bool:
        if not self.matches_dataview(ref):
            return False
        if self.key is not None and change.key != self.key:
            return False
        return self.handler is None or self.handler in _handlers(change)


def _handlers(change: Change) -> set[str]:
    found = {change.handler_type}
    if change.live is not None:
        found.add(change.live.handler_type)
    return found


def parse_selector(text: str) -> Selector:
    """Parse one selector; a ``ConfigError`` lists the accepted forms."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not value:
        raise _bad(text, "expected NAME=VALUE")
    if name == "key":
        return Selector(text, key=value)
    if name == "handler":
        if value not in HANDLER_TYPES:
            raise _bad(text, f"unknown handler type {value!r}")
        return Selector(text, handler=value)
    if name == "dataview":
        return _parse_dataview(text, value)
    raise _bad(text, f"unknown selector {name!r}")


def _parse_dataview(text: str, value: str) -> Selector:
    parts = value.split("/")
    ids, key = (parts[:-1], parts[-1]) if len(parts) in (2, 5) else (parts, None)
    if len(ids) not in (1, 4) or not all(p.isdigit() for p in ids) or key == "":
        raise _bad(text, "a dataview is an id or W/P/D/V ids, optionally followed by /KEY")
    if len(ids) == 1:
        return Selector(text, dataview_id=int(ids[0]), key=key)
    return Selector(text, ref=DataviewRef.parse("/".join(ids)), key=key)


def _bad(text: str, problem: str) -> ConfigError:
    return ConfigError(f"invalid selector {text!r}: {problem}. Accepted forms: {FORMS}")


def select_plan(plan: Plan, targets: Sequence[str], excludes: Sequence[str]) -> Plan:
    """The plan with only the changes the selectors keep; empty dataviews dropped."""
    wanted, unwanted = _parse_all(targets), _parse_all(excludes)
    dataviews = []
    for dataview in plan.dataviews:
        changes = tuple(
            change for change in dataview.changes if _keeps(wanted, unwanted, dataview.ref, change)
        )
        if changes:
            dataviews.append(replace(dataview, changes=changes))
    return replace(plan, dataviews=tuple(dataviews))


def select_dataviews(
    desired: DesiredState, targets: Sequence[str], excludes: Sequence[str]
) -> DesiredState:
    """The dataviews a selected plan can involve, so callers list only those."""
    wanted, unwanted = _parse_all(targets), _parse_all(excludes)
    _require_known_dataviews([*wanted, *unwanted], [dv.ref for dv in desired.dataviews])
    kept = tuple(
        dataview
        for dataview in desired.dataviews
        if (not wanted or any(s.matches_dataview(dataview.ref) for s in wanted))
        and not any(s.covers_dataview(dataview.ref) for s in unwanted)
    )
    return replace(desired, dataviews=kept)


def _require_known_dataviews(selectors: Sequence[Selector], refs: Sequence[DataviewRef]) -> None:
    for selector in selectors:
        names_dataview = selector.ref is not None or selector.dataview_id is not None
        if names_dataview and not any(selector.matches_dataview(ref) for ref in refs):
            known = ", ".join(str(ref) for ref in refs[:5]) or "none"
            more = f" and {len(refs) - 5} more" if len(refs) > 5 else ""
            raise ConfigError(
                f"{selector.text!r} names a dataview the manifest does not have "
                f"(its dataviews: {known}{more}). Check the id."
            )


def _parse_all(texts: Iterable[str]) -> list[Selector]:
    return [parse_selector(text) for text in texts]


def _keeps(
    wanted: list[Selector], unwanted: list[Selector], ref: DataviewRef, change: Change
) -> bool:
    if wanted and not any(s.matches(ref, change) for s in wanted):
        return False
    return not any(s.matches(ref, change) for s in unwanted)
