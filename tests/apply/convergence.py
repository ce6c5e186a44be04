"""Checks every convergence test makes: plan empty, no duplicate, hand-made exports intact."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any

from reconciler.model import DesiredState, thaw
from reconciler.providers.mammoth.kind import EXPORTS
from reconciler.providers.mammoth.model import LiveExport
from tests.apply.helpers import live_exports, plan_now, refs


def duplicate_keys(base_url: str, state: DesiredState) -> list[str]:
    """Marker keys held by more than one export of a dataview."""
    found: list[str] = []
    for ref in refs(state):
        keys = Counter(
            marker.key
            for export in live_exports(base_url, ref)
            if (marker := EXPORTS.marker(export)) is not None
        )
        found += [f"{ref}/{key}" for key, count in keys.items() if count > 1]
    return found


def unmarked(base_url: str, state: DesiredState) -> list[tuple[Any, ...]]:
    """Unmarked exports as what a person set; sequence shifts as others go, so it is left out."""
    return [
        _as_set(export)
        for ref in refs(state)
        for export in live_exports(base_url, ref)
        if EXPORTS.marker(export) is None
    ]


def _as_set(export: LiveExport) -> tuple[Any, ...]:
    return (
        export.id,
        export.handler_type,
        export.trigger_type,
        export.suspended,
        thaw(export.target_properties),
        thaw(export.condition),
        thaw(export.additional_properties),
    )


def assert_converged(
    base_url: str, state: DesiredState, *, conflicts: Collection[str] = ()
) -> None:
    """Nothing left to do, and no key held twice but the ``conflicts`` seeded by hand."""
    plan = plan_now(base_url, state)
    pending = [(str(ref), c.action.value, c.key) for ref, c in plan.changes() if c.action.is_change]
    assert pending == []
    assert sorted(duplicate_keys(base_url, state)) == sorted(conflicts)
