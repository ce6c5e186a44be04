"""Did a write that got no usable answer take effect anyway?

When a write may have landed (``MaybeLandedError``: a timeout, a dropped
connection or a 5xx after the request was sent), sending it again blindly
could create a second resource or start a second run. Instead the scope is
listed again and the change looked for: an add or edit by its marker (key and
the exact ``applied`` value just written, whose salt is fresh for every
write), a delete by the resource's (or run's) absence, a run by a run of its
request the plan had not seen. A provider's follow-ups bring their own check.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from reconciler.identity import Marker, spec_digest
from reconciler.kinds import ResourceKind
from reconciler.model import (
    DesiredResource,
    ListedResource,
    LiveRun,
    LiveScope,
    RunState,
    Scope,
    SnapshotSpec,
)
from reconciler.providers.base import Providers

__all__ = ["is_gone", "new_run", "resource_with_marker", "resource_with_spec"]


async def _listed(providers: Providers, scope: Scope) -> LiveScope:
    return await providers.of(scope).list(scope)


async def resource_with_marker(
    providers: Providers, scope: Scope, kind: ResourceKind, key: str, applied: str
) -> ListedResource | None:
    """The resource carrying exactly this marker, if the write landed."""
    return await _marked(providers, scope, kind, key, lambda m: m.applied == applied)


async def resource_with_spec(
    providers: Providers, scope: Scope, kind: ResourceKind, desired: DesiredResource
) -> ListedResource | None:
    """A resource with ``desired``'s key, written as ``desired`` is by any apply (any salt)."""
    written = spec_digest(kind.normalize_desired(desired))
    return await _marked(providers, scope, kind, desired.key, lambda m: m.spec_digest == written)


async def _marked(
    providers: Providers,
    scope: Scope,
    kind: ResourceKind,
    key: str,
    matches: Callable[[Marker], bool],
) -> ListedResource | None:
    """The first listed resource whose marker has ``key`` and ``matches``."""
    for resource in (await _listed(providers, scope)).present():
        marker = kind.marker(resource)
        if marker is not None and marker.key == key and matches(marker):
            return resource
    return None


async def is_gone(providers: Providers, scope: Scope, resource_id: str) -> bool:
    """Whether the resource (or run) is no longer there: the delete landed."""
    live = await _listed(providers, scope)
    ids = {r.resource_id for r in live.present()} | {r.run_id for r in live.runs}
    return resource_id not in ids


async def new_run(
    providers: Providers, scope: Scope, snapshot: SnapshotSpec, seen: Collection[str]
) -> LiveRun | None:
    """A run of ``snapshot``'s request that is not one of the ``seen`` (planned) runs."""
    for run in (await _listed(providers, scope)).runs:
        fresh = run.state in (RunState.RUNNING, RunState.SUCCEEDED)
        if run.request == snapshot.request and run.run_id not in seen and fresh:
            return run
    return None
