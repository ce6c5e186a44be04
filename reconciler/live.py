"""Fetch the live resources of many scopes at once.

The planner needs a snapshot of every scope in the manifest. They are listed
concurrently; the provider's own bound on requests in flight keeps them
within ``--parallelism`` however many scopes there are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from reconciler.errors import ApiError, ApiUnreachableError, AuthError, ExportctlError
from reconciler.model import DataviewRef, LiveDataview
from reconciler.providers.base import IdsFrom, Provider

__all__ = ["fetch_live"]


async def fetch_live(
    provider: Provider,
    refs: Sequence[DataviewRef],
    on_listed: Callable[[LiveDataview], None] | None = None,
    *,
    ids_from: IdsFrom = "manifest",
) -> dict[DataviewRef, LiveDataview]:
    """The live state of each scope, keyed in the order given.

    Every scope is tried even when one fails, so a run with three wrong
    dataview ids reports all three at once, not one per attempt. ``on_listed``
    gets each scope as soon as it is listed, so a caller can work on it
    (plan it) while the other requests are still in flight. ``ids_from`` says
    where the scopes were written, so an unknown scope's error points there.
    """
    unique = list(dict.fromkeys(refs))
    outcomes = await asyncio.gather(
        *(_fetch_one(provider, ref, on_listed, ids_from) for ref in unique),
        return_exceptions=True,
    )
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    if failures:
        raise _combined(failures)
    return {live.ref: live for live in outcomes if isinstance(live, LiveDataview)}


async def _fetch_one(
    provider: Provider,
    ref: DataviewRef,
    on_listed: Callable[[LiveDataview], None] | None,
    ids_from: IdsFrom,
) -> LiveDataview:
    live = await provider.list(ref, ids_from=ids_from)
    if on_listed is not None:
        on_listed(live)
    return live


def _combined(failures: Sequence[BaseException]) -> BaseException:
    """One error for several failed scopes; repeats said once.

    A 401 or an unreachable API is said once whatever else failed. A wrong
    endpoint's 404 names no scope, so its repeats collapse to one message.
    """
    unexpected = [f for f in failures if not isinstance(f, ExportctlError)]
    if unexpected:
        return unexpected[0]  # a bug, not a user error: let it surface as it is
    endpoint_wide = [f for f in failures if isinstance(f, AuthError | ApiUnreachableError)]
    if endpoint_wide:  # every scope failed for the same reason: say it once
        return endpoint_wide[0]
    messages = list(dict.fromkeys(str(f) for f in failures))
    if len(messages) == 1:
        return failures[0]
    count = len(failures)
    return ApiError("\n".join(messages) + f"\n{count} dataviews could not be listed.")
