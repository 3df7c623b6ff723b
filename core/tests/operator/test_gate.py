"""The reconcile gate: at most ``limit`` at work; quick kinds first, FIFO otherwise, whether a kind
runs long asked when a slot frees (not when its waiter queued); slow work only while the operator
has time to spare (the loop not saturated, no burst of quick work on); background work promoted
after ``promote_after``; a cancelled waiter neither holds nor loses a slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from aso.operator.gate import BACKGROUND, LoopLag, WorkGate

pytestmark = pytest.mark.timeout(30)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _until(condition: Callable[[], bool], step: float = 0.0) -> None:
    """Let the loop run until ``condition()`` holds: each step hands control to every ready task
    (``step`` 0), or also lets timers fire (a ``step`` in seconds); 1,000 steps at most."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(step)
    raise AssertionError("condition never held")


async def _queue_up(
    gate: WorkGate, order: list[str], release: asyncio.Event, waiters: list[tuple[str, str]]
) -> list[asyncio.Task[None]]:
    """Start one task per ``(name, key)``, in order, each holding or queued before the next starts."""

    async def work(name: str, key: str) -> None:
        async with gate.slot(key):
            order.append(name)
            await release.wait()

    tasks = []
    for name, key in waiters:
        queued = gate.waiting(key)
        tasks.append(asyncio.create_task(work(name, key)))

        def started(name: str = name, key: str = key, queued: int = queued) -> bool:
            return name in order or gate.waiting(key) == queued + 1

        await _until(started)
    return tasks


def _gate(long: set[str], limit: int = 1, clock: Callable[[], float] | None = None) -> WorkGate:
    # quiet=0: these test the order of the queues, not the wait after quick work asked.
    if clock is None:
        return WorkGate(limit, long.__contains__, quiet=0.0)
    return WorkGate(limit, long.__contains__, promote_after=30.0, clock=clock, quiet=0.0)


async def test_never_more_than_the_limit_at_work() -> None:
    gate = _gate(set(), limit=3)
    busy = peak = 0

    async def work(key: str) -> None:
        nonlocal busy, peak
        async with gate.slot(key):
            busy += 1
            peak = max(peak, busy)
            await asyncio.sleep(0)
            busy -= 1

    await asyncio.gather(*(work(("Group", "Cache", BACKGROUND)[i % 3]) for i in range(30)))
    assert peak == 3
    assert all(gate.waiting(key) == 0 for key in ("Group", "Cache", BACKGROUND))


async def test_quick_kinds_go_before_earlier_slow_work_and_each_class_is_fifo() -> None:
    gate = _gate({"Cache"})
    order: list[str] = []
    release = asyncio.Event()
    holder = await _queue_up(gate, order, release, [("holder", "Group")])
    tasks = await _queue_up(
        gate,
        order,
        release,
        [
            ("poll-1", BACKGROUND),
            ("cache-1", "Cache"),
            ("group-1", "Group"),
            ("account-1", "Account"),
            ("poll-2", BACKGROUND),
            ("group-2", "Group"),
        ],
    )
    release.set()
    await asyncio.gather(*holder, *tasks)
    assert order == ["holder", "group-1", "account-1", "group-2", "poll-1", "cache-1", "poll-2"]


async def test_a_kind_learned_to_run_long_while_its_waiters_queue_goes_behind() -> None:
    long: set[str] = set()
    gate = _gate(long)
    order: list[str] = []
    release = asyncio.Event()
    holder = await _queue_up(gate, order, release, [("holder", "Cache")])
    tasks = await _queue_up(gate, order, release, [("cache-1", "Cache"), ("group-1", "Group")])
    long.add("Cache")  # the holder's create came back running: learned after the others queued
    release.set()
    await asyncio.gather(*holder, *tasks)
    assert order == ["holder", "group-1", "cache-1"]


async def test_slow_work_that_waited_long_enough_goes_first() -> None:
    clock = Clock()
    gate = _gate(set(), clock=clock)
    order: list[str] = []
    release = asyncio.Event()
    holder = await _queue_up(gate, order, release, [("holder", "Group")])
    poll = await _queue_up(gate, order, release, [("poll", BACKGROUND)])
    clock.now = 31.0
    group = await _queue_up(gate, order, release, [("group", "Group")])
    release.set()
    await asyncio.gather(*holder, *poll, *group)
    assert order == ["holder", "poll", "group"]


async def test_a_cancelled_waiter_leaves_its_queue_and_the_slot_goes_on() -> None:
    gate = _gate(set())
    order: list[str] = []
    release = asyncio.Event()
    holder = await _queue_up(gate, order, release, [("holder", "Group")])
    gone, stays = await _queue_up(gate, order, release, [("gone", "Group"), ("stays", BACKGROUND)])
    gone.cancel()
    await _until(lambda: gate.waiting("Group") == 0)
    release.set()
    await asyncio.gather(*holder, stays)
    assert order == ["holder", "stays"]
    # and the one slot is free again
    await asyncio.wait_for(_queue_up(gate, order, release, [("after", "Group")]), timeout=5)


async def test_a_waiter_cancelled_after_it_was_handed_the_slot_passes_it_on() -> None:
    gate = _gate(set())
    order: list[str] = []
    release = asyncio.Event()
    release.set()
    holding = gate.slot("Group")
    await holding.__aenter__()
    handed, next_one = await _queue_up(gate, order, release, [("handed", "Group"), ("next", "Group")])
    await holding.__aexit__(None, None, None)  # hands the slot to "handed" without yielding
    handed.cancel()  # before "handed" could run
    await asyncio.wait_for(next_one, timeout=5)
    assert order == ["next"]


async def test_slow_work_waits_while_the_loop_is_busy_and_goes_when_it_is_not() -> None:
    clock = Clock()
    busy = True
    gate = WorkGate(2, {"Cache"}.__contains__, promote_after=30.0, clock=clock, busy=lambda: busy, quiet=1.0)
    order: list[str] = []
    release = asyncio.Event()
    release.set()
    slow = await _queue_up(gate, order, release, [("cache", "Cache"), ("poll", BACKGROUND)])
    quick = await _queue_up(gate, order, release, [("group", "Group")])  # a slot is free: it goes
    await asyncio.gather(*quick)
    gate.poke()
    await _until(lambda: order == ["group"])
    assert gate.waiting("Cache") == gate.waiting(BACKGROUND) == 1
    clock.now = 1.0  # quiet since the group asked
    gate.poke()
    await _until(lambda: gate.waiting("Cache") == 1)
    assert order == ["group"]  # still busy
    busy = False
    gate.poke()  # the load meter's tick
    await asyncio.gather(*slow)
    assert order[0] == "group"
    assert sorted(order[1:]) == ["cache", "poll"]


async def test_slow_work_waits_while_a_burst_of_quick_work_is_on() -> None:
    """A loop can be saturated and still run its timers on time: quick work asking for more slots
    within ``quiet`` seconds than there are is a burst, more of which is on its way, so slow work
    waits until it is over. A quick call now and then (an object retrying) holds nothing back."""
    clock = Clock()
    gate = WorkGate(2, {"Cache"}.__contains__, promote_after=30.0, clock=clock, quiet=5.0)
    order: list[str] = []
    release = asyncio.Event()
    release.set()
    await asyncio.gather(*await _queue_up(gate, order, release, [("retry", "Group")]))
    clock.now = 1.0
    await asyncio.gather(*await _queue_up(gate, order, release, [("cache", "Cache")]))
    assert order == ["retry", "cache"]  # one quick ask is no burst

    clock.now = 10.0
    burst = [("group-1", "Group"), ("group-2", "Group")]
    await asyncio.gather(*await _queue_up(gate, order, release, burst))
    clock.now = 12.0
    slow = await _queue_up(gate, order, release, [("cache-2", "Cache"), ("poll", BACKGROUND)])
    gate.poke()
    await _until(lambda: gate.waiting("Cache") == gate.waiting(BACKGROUND) == 1)
    assert order[-2:] == ["group-1", "group-2"]  # free slots, but the burst is on
    clock.now = 15.0  # the burst's asks are 5 s old
    gate.poke()  # the load meter's tick
    await asyncio.gather(*slow)
    assert sorted(order[-2:]) == ["cache-2", "poll"]


async def test_slow_work_that_waited_long_enough_goes_however_busy_the_loop() -> None:
    clock = Clock()
    gate = WorkGate(1, set().__contains__, promote_after=30.0, clock=clock, busy=lambda: True)
    order: list[str] = []
    release = asyncio.Event()
    release.set()
    poll = await _queue_up(gate, order, release, [("poll", BACKGROUND)])
    gate.poke()
    await _until(lambda: gate.waiting(BACKGROUND) == 1)
    assert order == []
    clock.now = 30.0
    gate.poke()
    await asyncio.gather(*poll)
    assert order == ["poll"]


async def test_the_loop_lag_meter_says_busy_while_the_loop_is_blocked() -> None:
    lag = LoopLag(threshold=0.02, interval=0.01)
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1

    meter = asyncio.create_task(lag.run(tick))
    try:
        await _until(lambda: ticks >= 1, step=0.01)
        seen = ticks
        blocked_until = time.monotonic() + 0.1
        while time.monotonic() < blocked_until:
            pass  # a handler hogging the loop: the meter's next timer runs 0.1 s late
        await _until(lambda: ticks > seen, step=0.01)
        assert lag.busy()
    finally:
        meter.cancel()


async def test_a_kind_not_seen_yet_probes_with_a_few_slots_until_its_pace_is_known() -> None:
    """The first burst of a kind waits behind ``probes`` of its objects: had they all started at
    once, a slow kind's burst would have taken every slot before the first came back running."""
    clock = Clock()
    pace: dict[str, bool] = {}
    busy = True
    gate = WorkGate(10, pace.get, promote_after=30.0, clock=clock, busy=lambda: busy, quiet=0.0, probes=2)
    order: list[str] = []
    release = asyncio.Event()
    caches = await _queue_up(gate, order, release, [(f"cache-{i}", "Cache") for i in range(4)])
    assert order == ["cache-0", "cache-1"]
    assert gate.waiting("Cache") == 2
    pace["Cache"] = True  # the probes came back running in Azure
    groups = await _queue_up(gate, order, release, [("group", "Group")])
    assert order == ["cache-0", "cache-1", "group"]  # a new kind probes before the slow kind's rest
    assert gate.waiting("Cache") == 2  # slow, and the loop is busy
    busy = False
    gate.poke()
    await _until(lambda: len(order) == 5)
    release.set()
    await asyncio.gather(*caches, *groups)
    assert sorted(order[3:]) == ["cache-2", "cache-3"]


async def test_waiters_of_a_kind_whose_probes_never_end_are_promoted() -> None:
    clock = Clock()
    gate = WorkGate(10, {}.get, promote_after=30.0, clock=clock, quiet=0.0, probes=1)
    order: list[str] = []
    release = asyncio.Event()
    tasks = await _queue_up(gate, order, release, [("first", "Cache"), ("second", "Cache")])
    assert order == ["first"]
    clock.now = 30.0
    gate.poke()
    await _until(lambda: order == ["first", "second"])
    release.set()
    await asyncio.gather(*tasks)


async def test_the_record_of_quick_asks_stays_as_small_as_the_limit() -> None:
    """Only the last ``limit`` quick asks can make a burst: an operator that never has slow work
    keeps no more than that, however many reconciles it runs."""
    gate = WorkGate(3, set().__contains__)
    for _ in range(1000):
        async with gate.slot("Group"):
            pass
    assert len(gate._quick_asks) == 3
