"""Fetch the live resources of many scopes at once.

The planner needs a snapshot of every scope in the manifest. They are listed
concurrently; the provider's own bound on requests in flight keeps them
within ``--parallelism`` however many scopes there are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

from reconciler.errors import ApiError, ApiUnreachableError, AuthError, ExportctlError
from reconciler.model import LiveScope, Scope, common_noun
from reconciler.providers.base import IdsFrom, Providers

__all__ = ["fetch_live"]


async def fetch_live(
    providers: Providers,
    scopes: Sequence[Scope],
    on_listed: Callable[[LiveScope], None] | None = None,
    *,
    ids_from: IdsFrom = "manifest",
    started: Mapping[Scope, Awaitable[LiveScope]] | None = None,
) -> dict[Scope, LiveScope]:
    """The live state of each scope, keyed in the order given.

    Every scope is tried even when one fails, so a run with three wrong
    scope ids reports all three at once, not one per attempt. ``on_listed``
    gets each scope as soon as it is listed, so a caller can work on it
    (plan it) while the other requests are still in flight. ``ids_from`` says
    where the scopes were written, so an unknown scope's error points there.
    ``started`` holds listings already under way (``reconciler.cli.ahead``):
    they are joined, not sent again.
    """
    unique = list(dict.fromkeys(scopes))
    started = started or {}
    turns = asyncio.Lock()
    outcomes = await asyncio.gather(
        *(_fetch_one(providers, s, on_listed, ids_from, started.get(s), turns) for s in unique),
        return_exceptions=True,
    )
    failed = [(s, o) for s, o in zip(unique, outcomes, strict=True) if isinstance(o, BaseException)]
    if failed:
        noun = common_noun((scope for scope, _ in failed), of_resources=False)
        raise _combined([o for _, o in failed], noun)
    return {live.scope: live for live in outcomes if isinstance(live, LiveScope)}


async def _fetch_one(
    providers: Providers,
    scope: Scope,
    on_listed: Callable[[LiveScope], None] | None,
    ids_from: IdsFrom,
    started: Awaitable[LiveScope] | None,
    turns: asyncio.Lock,
) -> LiveScope:
    if started is None:
        started = providers.of(scope).list(scope, ids_from=ids_from)
    live = await started
    if on_listed is not None:
        # Trick (speed): one scope's work per turn of the event loop. Listings
        # made ahead (hundreds when a large manifest's check ends) would all
        # be worked on in one turn otherwise: 0.1-0.2 s in which no answer is
        # read and no request sent.
        async with turns:
            await asyncio.sleep(0)
            on_listed(live)
    return live


def _combined(failures: Sequence[BaseException], noun: str) -> BaseException:
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
    return ApiError("\n".join(messages) + f"\n{count} {noun}s could not be listed.")
