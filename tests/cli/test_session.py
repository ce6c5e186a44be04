"""The shared planning flow: planning while listing gives the plan make_plan gives."""

import asyncio
import itertools

from reconciler.cli.session import plan_live
from reconciler.live import fetch_live
from reconciler.model import LiveScope, Scope
from reconciler.planner import make_plan
from reconciler.providers.base import Providers
from reconciler.providers.mammoth.model import DataviewRef
from tests.apply.helpers import REF, REF2, apply_now, desired, provider, providers, s3
from tests.sandboxes import RunningSandbox


def test_planning_while_listing_equals_planning_after_listing(server: RunningSandbox) -> None:
    server.store.ensure_dataviews([REF, REF2])
    apply_now(server.base_url, desired((REF, [s3("a", "a.csv"), s3("b", "b.csv")])))
    state = desired(
        (REF, [s3("a", "a.csv"), s3("b", "moved.csv"), s3("c", "c.csv")]),
        (REF2, [s3("d", "d.csv")]),
    )

    async def both() -> tuple[object, object]:
        async with provider(server.base_url) as api:
            overlapped = await plan_live(providers(api), state, (), ())
            live = await fetch_live(providers(api), [spec.scope for spec in state.scopes])
        return overlapped, make_plan(state, live)

    overlapped, sequential = asyncio.run(both())
    assert overlapped == sequential
    assert [sp.scope for sp in overlapped.scopes] == [REF.scope, REF2.scope]  # manifest order


def test_listings_made_ahead_are_worked_on_one_per_turn_of_the_event_loop() -> None:
    """Between two scopes' work the loop gets a turn, to read answers and send requests."""
    scopes = [DataviewRef(1, 1, 1, n).scope for n in range(1, 6)]
    turns_seen: list[int] = []

    async def run() -> None:
        turns = 0
        done = asyncio.Event()

        async def count_turns() -> None:
            nonlocal turns
            while not done.is_set():
                turns += 1
                await asyncio.sleep(0)

        counter = asyncio.create_task(count_turns())
        started: dict[Scope, asyncio.Future[LiveScope]] = {}
        for scope in scopes:
            started[scope] = asyncio.get_running_loop().create_future()
            started[scope].set_result(LiveScope(scope, ()))
        await fetch_live(
            Providers({}), scopes, on_listed=lambda _: turns_seen.append(turns), started=started
        )
        done.set()
        await counter

    asyncio.run(run())
    assert len(turns_seen) == len(scopes)
    assert all(later > earlier for earlier, later in itertools.pairwise(turns_seen))
