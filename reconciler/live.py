"""Fetch the live exports of many dataviews at once.

The planner needs a snapshot of every dataview in the manifest. They are listed
concurrently; the client's semaphore keeps the requests in flight within
``--parallelism`` however many dataviews there are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from reconciler.errors import ApiError, ApiUnreachableError, AuthError, ExportctlError
from reconciler.model import DataviewRef, LiveDataview
from reconciler.providers.mammoth.client import IdsFrom, MammothClient

__all__ = ["fetch_live", "fetch_live_sync"]


async def fetch_live(
    client: MammothClient,
    refs: Sequence[DataviewRef],
    on_listed: Callable[[LiveDataview], None] | None = None,
    *,
    ids_from: IdsFrom = "manifest",
) -> dict[DataviewRef, LiveDataview]:
    """The live state of each dataview, keyed in the order given.

    Every dataview is tried even when one fails, so a run with three wrong
    dataview ids reports all three at once, not one per attempt. ``on_listed``
    gets each dataview as soon as it is listed, so a caller can work on it
    (plan it) while the other requests are still in flight. ``ids_from`` says
    where the refs were written, so an unknown dataview's error points there.
    """
    unique = list(dict.fromkeys(refs))
    outcomes = await asyncio.gather(
        *(_fetch_one(client, ref, on_listed, ids_from) for ref in unique),
        return_exceptions=True,
    )
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    if failures:
        raise _combined(failures)
    return {live.ref: live for live in outcomes if isinstance(live, LiveDataview)}


async def _fetch_one(
    client: MammothClient,
    ref: DataviewRef,
    on_listed: Callable[[LiveDataview], None] | None,
    ids_from: IdsFrom,
) -> LiveDataview:
    live = LiveDataview.from_records(ref, await client.list_exports(ref, ids_from=ids_from))
    if on_listed is not None:
        on_listed(live)
    return live


def _combined(failures: Sequence[BaseException]) -> BaseException:
    """One error for several failed dataviews; repeats said once.

    A 401 or an unreachable API is said once whatever else failed. A wrong
    endpoint's 404 names no dataview, so its repeats collapse to one message.
    """
    unexpected = [f for f in failures if not isinstance(f, ExportctlError)]
    if unexpected:
        return unexpected[0]  # a bug, not a user error: let it surface as it is
    endpoint_wide = [f for f in failures if isinstance(f, AuthError | ApiUnreachableError)]
    if endpoint_wide:  # every dataview failed for the same reason: say it once
        return endpoint_wide[0]
    messages = list(dict.fromkeys(str(f) for f in failures))
    if len(messages) == 1:
        return failures[0]
    count = len(failures)
    return ApiError("\n".join(messages) + f"\n{count} dataviews could not be listed.")


def fetch_live_sync(
    open_client: Callable[[], MammothClient],
    refs: Sequence[DataviewRef],
    *,
    ids_from: IdsFrom = "manifest",
) -> dict[DataviewRef, LiveDataview]:
    """``fetch_live`` for synchronous callers (the CLI); opens and closes the client."""

    async def run() -> dict[DataviewRef, LiveDataview]:
        async with open_client() as client:
            return await fetch_live(client, refs, ids_from=ids_from)

    return asyncio.run(run())
