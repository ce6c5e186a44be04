"""The shared planning flow: planning while listing gives the plan make_plan gives."""

import asyncio

from reconciler.cli.session import plan_live
from reconciler.live import fetch_live
from reconciler.planner import make_plan
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
