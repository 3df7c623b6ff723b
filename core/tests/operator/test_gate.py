"""The reconcile gate: at most ``limit`` at work; urgent waiters first, FIFO within a queue, a
background waiter promoted after ``promote_after``; a cancelled waiter neither holds nor loses a slot."""

from __future__ import annotations

import asyncio

import pytest

from aso.operator.gate import BACKGROUND, URGENT, Priority, WorkGate

pytestmark = pytest.mark.timeout(30)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _until(condition: object) -> None:
    """Let the loop run until ``condition()`` holds (each step hands control to every ready task)."""
    assert callable(condition)
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def _queue_up(
    gate: WorkGate, order: list[str], release: asyncio.Event, waiters: list[tuple[str, Priority]]
) -> list[asyncio.Task[None]]:
    """Start one task per waiter, in order, each holding or queued before the next starts."""

    async def work(name: str, priority: Priority) -> None:
        async with gate.slot(priority):
            order.append(name)
            await release.wait()

    tasks = []
    for name, priority in waiters:
        queued = gate.waiting(priority)
        tasks.append(asyncio.create_task(work(name, priority)))
        await _until(lambda n=name, p=priority, q=queued: n in order or gate.waiting(p) == q + 1)
    return tasks


async def test_never_more_than_the_limit_at_work() -> None:
    gate = WorkGate(3)
    busy = peak = 0

    async def work() -> None:
        nonlocal busy, peak
        async with gate.slot(URGENT):
            busy += 1
            peak = max(peak, busy)
            await asyncio.sleep(0)
            busy -= 1

    await asyncio.gather(*(work() for _ in range(20)))
    assert peak == 3
    assert gate.waiting(URGENT) == gate.waiting(BACKGROUND) == 0


async def test_urgent_work_goes_before_earlier_background_work_and_each_queue_is_fifo() -> None:
    gate = WorkGate(1)
    order: list[str] = []
    release = asyncio.Event()
    holder = await _queue_up(gate, order, release, [("holder", URGENT)])
    tasks = await _queue_up(
        gate,
        order,
        release,
        [("poll-1", BACKGROUND), ("create-1", URGENT), ("poll-2", BACKGROUND), ("create-2", URGENT)],
    )
    release.set()
    await asyncio.gather(*holder, *tasks)
    assert order == ["holder", "create-1", "create-2", "poll-1", "poll-2"]


async def test_background_work_that_waited_long_enough_goes_first() -> None:
    clock = Clock()
    gate = WorkGate(1, promote_after=30.0, clock=clock)
    order: list[str] = []
    release = asyncio.Event()
    holder = await _queue_up(gate, order, release, [("holder", URGENT)])
    poll = await _queue_up(gate, order, release, [("poll", BACKGROUND)])
    clock.now = 31.0
    create = await _queue_up(gate, order, release, [("create", URGENT)])
    release.set()
    await asyncio.gather(*holder, *poll, *create)
    assert order == ["holder", "poll", "create"]


async def test_a_cancelled_waiter_leaves_its_queue_and_the_slot_goes_on() -> None:
    gate = WorkGate(1)
    order: list[str] = []
    release = asyncio.Event()
    holder = await _queue_up(gate, order, release, [("holder", URGENT)])
    gone, stays = await _queue_up(gate, order, release, [("gone", URGENT), ("stays", BACKGROUND)])
    gone.cancel()
    await _until(lambda: gate.waiting(URGENT) == 0)
    release.set()
    await asyncio.gather(*holder, stays)
    assert order == ["holder", "stays"]
    # and the one slot is free again
    await asyncio.wait_for(_queue_up(gate, order, release, [("after", URGENT)]), timeout=5)


async def test_a_waiter_cancelled_after_it_was_handed_the_slot_passes_it_on() -> None:
    gate = WorkGate(1)
    order: list[str] = []
    release = asyncio.Event()
    release.set()
    holding = gate.slot(URGENT)
    await holding.__aenter__()
    handed, next_one = await _queue_up(gate, order, release, [("handed", URGENT), ("next", URGENT)])
    await holding.__aexit__(None, None, None)  # hands the slot to "handed" without yielding
    handed.cancel()  # before "handed" could run
    await asyncio.wait_for(next_one, timeout=5)
    assert order == ["next"]
