"""List the manifest's scopes while the manifest is still being checked.

Checking a 10,000-entry manifest takes a good part of a second, and listing
its scopes waits on the network for longer. The scope addresses are known as
soon as a file is parsed (``manifest.sections.ScopesAhead``), so the listing
requests leave then, while the entries are checked in a child process on
another core (``cli.load_aside``), or in a worker thread where that is unsafe.

``plan``, ``drift`` and ``get`` plan this way, and so does ``apply -f``,
which keeps the providers open for its writes (``planned_ahead``).

Nothing is planned from an invalid manifest: the listings are only joined
(``plan_live(started=...)``) once the whole manifest has loaded without a
problem; otherwise they are cancelled and every problem is reported as
without them. A listing ahead is made only where it cannot differ from the
one made afterwards:

- not with ``--sandbox``: the embedded sandbox makes its scopes from the
  whole manifest (and has no latency to hide);
- only for providers whose section loader offers ``ScopesAhead``;
- only for scopes the ``--target``/``--exclude`` selectors keep (none at all
  if a selector does not parse for those providers: the load then says why).

Limitation: with ``--endpoint`` and a manifest of several providers, the
requests ahead have been sent when the option is refused.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager

from reconciler.cli.load_aside import load_aside
from reconciler.cli.session import Planned, open_for, plan_live, with_preflight
from reconciler.errors import ConfigError
from reconciler.model import DesiredState, LiveScope, Scope
from reconciler.plan import Plan
from reconciler.providers import factory
from reconciler.providers.base import Connection, Provider, Providers
from reconciler.selectors import scope_filter

__all__ = ["load_and_plan_ahead", "planned_ahead"]


async def load_and_plan_ahead(
    files: Sequence[str],
    targets: Sequence[str],
    excludes: Sequence[str],
    connection: Connection,
    *,
    preflight: bool = False,
) -> Planned:
    """``load_desired`` then ``plan_live``, the listings leaving before the check ends."""
    async with planned_ahead(files, targets, excludes, connection) as (desired, plan, providers):
        return await with_preflight(providers, desired, plan, preflight)


@asynccontextmanager
async def planned_ahead(
    files: Sequence[str],
    targets: Sequence[str],
    excludes: Sequence[str],
    connection: Connection,
) -> AsyncIterator[tuple[DesiredState, Plan, Providers]]:
    """The manifest loaded and planned, its listings started ahead, and its
    providers still open for what follows (an apply's writes)."""
    loop = asyncio.get_running_loop()
    async with _Ahead(connection, targets, excludes) as ahead:

        def heard(scopes: list[Scope]) -> None:  # called in a thread of its own
            # Import the providers here, while the event loop has nothing to
            # do: in the loop's thread it would wait on the loader for the lock.
            for name in dict.fromkeys(scope.provider for scope in scopes):
                factory(name)
            loop.call_soon_threadsafe(ahead.start, scopes)

        with _loaded_manifest_spared_by_the_collector() as loaded:
            with _answers_served_promptly():
                desired = await load_aside(files, targets, excludes, heard)
            loaded()
            opened = await ahead.providers()
            endpoint, parallelism = connection.endpoint, connection.parallelism
            async with open_for(desired, endpoint, None, parallelism, opened) as providers:
                plan = await plan_live(providers, desired, targets, excludes, ahead.listings)
                yield desired, plan, providers


@contextmanager
def _answers_served_promptly() -> Iterator[None]:
    """Trick (speed): while the loader's thread holds the interpreter lock, the
    event loop gets it back only when the thread is made to yield, every 5 ms
    by default; at several answers per 5 ms that halves the listing rate.
    1 ms lets the loop send the next requests nearly on time, for a few
    percent more switching in the loader.
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(_SWITCH_INTERVAL_S)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


_SWITCH_INTERVAL_S = 0.001


@contextmanager
def _loaded_manifest_spared_by_the_collector() -> Iterator[Callable[[], None]]:
    """Trick (speed): no cyclic collection until the caller says the manifest is
    loaded, then the manifest is frozen out of the collector's sight.

    The loader pauses the collector (``manifest.loader``), but the listings
    ahead allocate meanwhile, so the loader's own pause would end in one
    collection over everything both made (~0.2 s for 10,000 exports), and the
    manifest (~20 objects per entry, no cycles, alive until the plan is made)
    would be walked again by every later full collection. Frozen, it is left
    to reference counting; what the listing makes is collected as usual.
    """
    enabled = gc.isenabled()
    gc.disable()

    def loaded() -> None:
        gc.freeze()
        if enabled:
            gc.enable()

    try:
        yield loaded
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


class _Ahead:
    """The providers opened and the listings started ahead; all closed on exit."""

    def __init__(
        self, connection: Connection, targets: Sequence[str], excludes: Sequence[str]
    ) -> None:
        self._connection = connection
        self._selectors = (targets, excludes)
        self._stack = AsyncExitStack()
        self._opening: dict[str, asyncio.Task[Provider]] = {}
        self.listings: dict[Scope, asyncio.Task[LiveScope]] = {}

    def start(self, scopes: list[Scope]) -> None:
        """List each new scope the selectors keep, opening its provider on first use."""
        targets, excludes = self._selectors
        try:
            keep = scope_filter(targets, excludes, list(dict.fromkeys(s.provider for s in scopes)))
        except ConfigError:
            return  # the load reports the selector; nothing is listed ahead
        for scope in scopes:
            if scope in self.listings or not keep(scope):
                continue
            if scope.provider not in self._opening:
                self._opening[scope.provider] = asyncio.create_task(self._open(scope.provider))
            self.listings[scope] = asyncio.create_task(self._list(scope))

    async def providers(self) -> dict[str, Provider]:
        """The providers opened ahead; an error opening one is raised here."""
        return {name: await task for name, task in self._opening.items()}

    async def _open(self, name: str) -> Provider:
        unopened = factory(name).open(self._connection, DesiredState(()))
        provider: Provider = await self._stack.enter_async_context(unopened)
        return provider

    async def _list(self, scope: Scope) -> LiveScope:
        provider = await self._opening[scope.provider]
        return await provider.list(scope)

    async def __aenter__(self) -> _Ahead:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop what is still running, then close the providers.

        By now every listing the plan needed has been awaited; any still
        running is unwanted (a manifest problem, an error, Ctrl-C), and
        waiting for it could take the request deadline and its retries when a
        server never answers. So they are cancelled; the transport closes a
        connection cut half way, and asyncio a socket cut while it opened.
        Every task's outcome is collected, so none is reported as never retrieved.
        """
        tasks = [*self.listings.values(), *self._opening.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._stack.aclose()
