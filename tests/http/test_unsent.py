"""The client's 'send the next request first' bookkeeping, driven directly."""

from __future__ import annotations

import asyncio

from reconciler.http.api import _Unsent

SENT = "http11.send_request_body.complete"


async def _finished(awaitable: asyncio.Task[None]) -> bool:
    for _ in range(3):  # a few loop turns: enough for a wait that can end to end
        await asyncio.sleep(0)
    return awaitable.done()


def test_waits_until_every_request_holding_a_slot_is_sent() -> None:
    async def scenario() -> list[bool]:
        unsent = _Unsent()
        first, second = unsent.add(), unsent.add()
        waiter = asyncio.create_task(unsent.all_sent())
        seen = [await _finished(waiter)]
        await first.trace(SENT, {})
        seen.append(await _finished(waiter))
        await second.trace(SENT, {})
        seen.append(await _finished(waiter))
        return seen

    assert asyncio.run(scenario()) == [False, False, True]


def test_a_failed_request_counts_as_sent() -> None:
    async def scenario() -> bool:
        unsent = _Unsent()
        outgoing = unsent.add()
        waiter = asyncio.create_task(unsent.all_sent())
        outgoing.done()  # a transport error before or after sending
        return await _finished(waiter)

    assert asyncio.run(scenario())


def test_a_transport_without_trace_events_turns_the_wait_off() -> None:
    """The in-process sandbox reports no sends; waiting for them would stall until idle."""

    async def scenario() -> list[bool]:
        unsent = _Unsent()
        unsent.add().answered()  # answered, never reported sent
        unsent.add()  # would block every later wait if it were counted
        return [await _finished(asyncio.create_task(unsent.all_sent())) for _ in range(2)]

    assert asyncio.run(scenario()) == [True, True]


def test_a_traced_answer_keeps_the_wait_on() -> None:
    async def scenario() -> bool:
        unsent = _Unsent()
        answered = unsent.add()
        await answered.trace(SENT, {})
        answered.answered()
        unsent.add()  # taken by the next request, not sent yet
        return await _finished(asyncio.create_task(unsent.all_sent()))

    assert not asyncio.run(scenario())
