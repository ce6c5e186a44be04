"""Did a write that got no usable answer take effect anyway?

When a write may have landed (``MaybeLandedError``: a timeout, a dropped
connection or a 5xx after the request was sent), sending it again blindly
could create a second export. Instead the scope is listed again and the
change looked for: an add or edit by its marker (key and the exact
``applied`` value just written, whose salt is fresh for every write), a
delete by the export's absence. A provider's follow-ups bring their own check.
"""

from __future__ import annotations

from reconciler.identity import read_marker
from reconciler.model import DataviewRef, LiveExport
from reconciler.providers.base import Provider

__all__ = ["export_with_marker", "is_gone", "list_present"]


async def list_present(provider: Provider, scope: DataviewRef) -> tuple[LiveExport, ...]:
    """The scope's resources as listed now, leaving out deleted ones."""
    return tuple((await provider.list(scope)).present())


async def export_with_marker(
    provider: Provider, scope: DataviewRef, key: str, applied: str
) -> LiveExport | None:
    """The resource carrying exactly this marker, if the write landed."""
    for export in await list_present(provider, scope):
        marker = read_marker(export)
        if marker is not None and marker.key == key and marker.applied == applied:
            return export
    return None


async def is_gone(provider: Provider, scope: DataviewRef, export_id: int) -> bool:
    """Whether the resource is no longer present (the delete landed)."""
    return all(e.id != export_id for e in await list_present(provider, scope))
