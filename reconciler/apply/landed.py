"""Did a mutation that got no usable answer take effect anyway?

When a POST or PATCH may have landed (``MaybeLandedError``: a timeout, a
dropped connection or a 5xx after the request was sent), sending it again
blindly could create a second export. Instead the dataview is listed again and
the change looked for: an add or edit by its marker (key and the exact
``applied`` value just written, whose salt is fresh for every write), a delete
by the export's absence, a suspend or restore by the export's status.
"""

from __future__ import annotations

from reconciler.identity import read_marker
from reconciler.model import DataviewRef, LiveDataview, LiveExport
from reconciler.providers.mammoth.client import MammothClient

__all__ = ["export_with_marker", "is_gone", "is_suspended", "list_present"]


async def list_present(client: MammothClient, ref: DataviewRef) -> tuple[LiveExport, ...]:
    """The dataview's exports as listed now, leaving out deleted ones."""
    live = LiveDataview.from_records(ref, await client.list_exports(ref))
    return tuple(e for e in live.exports if not e.deleted)


async def export_with_marker(
    client: MammothClient, ref: DataviewRef, key: str, applied: str
) -> LiveExport | None:
    """The export carrying exactly this marker, if the write landed."""
    for export in await list_present(client, ref):
        marker = read_marker(export)
        if marker is not None and marker.key == key and marker.applied == applied:
            return export
    return None


async def is_gone(client: MammothClient, ref: DataviewRef, export_id: int) -> bool:
    """Whether the export is no longer present (the delete landed)."""
    return all(e.id != export_id for e in await list_present(client, ref))


async def is_suspended(client: MammothClient, ref: DataviewRef, export_id: int) -> bool | None:
    """The export's suspended state now, or ``None`` if it is not there."""
    for export in await list_present(client, ref):
        if export.id == export_id:
            return export.suspended
    return None
