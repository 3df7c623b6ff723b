"""The sync schedule and the per-object locks (unit): one heap entry per object, no task per object."""

from __future__ import annotations

import asyncio

import pytest
from aso_testkinds.plugin import WIDGET

from aso.operator.sync import ObjectLocks, RecentlyDone, SyncEntry, SyncSchedule, run_sync_loop

pytestmark = pytest.mark.timeout(30)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def entry(uid: str) -> SyncEntry:
    return SyncEntry(WIDGET, "default", f"w-{uid}", uid)


def test_due_after_one_period_within_the_jitter() -> None:
    clock = Clock()
    schedule = SyncSchedule(period=100.0, jitter=0.1, clock=clock)
    schedule.observe(entry("a"))
    assert schedule.pop_due(10) == []
    wait = schedule.seconds_to_next()
    assert wait is not None
    assert 90.0 <= wait <= 110.0
    clock.now += 111.0
    assert schedule.pop_due(10) == [entry("a")]
    assert len(schedule) == 0  # it left the schedule until it is reset


def test_observe_keeps_the_due_time_and_reset_moves_it() -> None:
    clock = Clock()
    schedule = SyncSchedule(period=100.0, jitter=0.0, clock=clock)
    schedule.observe(entry("a"))
    clock.now += 50.0
    schedule.observe(entry("a"))  # another watch event: still due at 1100
    clock.now += 50.0
    assert schedule.pop_due(10) == [entry("a")]
    schedule.reset(entry("a"))
    schedule.reset(entry("a"), delay=5.0)  # a retry sooner replaces the period
    clock.now += 5.0
    assert schedule.pop_due(10) == [entry("a")]
    assert schedule.pop_due(10) == []  # the replaced heap entry is skipped


def test_forgotten_objects_never_come_up_and_limit_is_kept() -> None:
    clock = Clock()
    schedule = SyncSchedule(period=10.0, jitter=0.0, clock=clock)
    for uid in "abcde":
        schedule.observe(entry(uid))
    schedule.forget("c")
    clock.now += 10.0
    first = schedule.pop_due(3)
    rest = schedule.pop_due(3)
    assert len(first) == 3
    assert sorted(e.uid for e in first + rest) == ["a", "b", "d", "e"]
    assert schedule.seconds_to_next() is None


def test_the_heap_stays_bounded_under_many_resets() -> None:
    schedule = SyncSchedule(period=10.0, jitter=0.1, clock=Clock())
    for _ in range(1000):
        schedule.reset(entry("a"))
    assert len(schedule._heap) <= 2 * len(schedule) + 64


async def test_locks_exclude_and_leave_nothing_behind() -> None:
    locks = ObjectLocks()
    order: list[str] = []

    async def work(name: str, started: asyncio.Event | None = None) -> None:
        async with locks.hold("uid-1"):
            if started is not None:
                started.set()
            order.append(f"{name}-in")
            await asyncio.sleep(0)
            order.append(f"{name}-out")

    started = asyncio.Event()
    first = asyncio.create_task(work("first", started))
    await started.wait()
    await asyncio.gather(first, work("second"))
    assert order == ["first-in", "first-out", "second-in", "second-out"]
    assert len(locks) == 0


async def test_the_loop_hands_due_objects_over_at_most_parallel_at_a_time() -> None:
    schedule = SyncSchedule(period=0.01, jitter=0.0)
    for uid in "abcdef":
        schedule.observe(entry(uid))
    stop = asyncio.Event()
    seen: list[str] = []
    busy = 0
    most = 0

    async def sync_one(e: SyncEntry) -> None:
        nonlocal busy, most
        busy += 1
        most = max(most, busy)
        await asyncio.sleep(0.01)
        busy -= 1
        seen.append(e.uid)
        if len(seen) == 6:
            stop.set()

    await asyncio.wait_for(run_sync_loop(schedule, sync_one, parallel=2, stop=stop), timeout=10)
    assert sorted(seen) == list("abcdef")
    assert most <= 2


def test_recently_done_covers_only_the_generation_done_and_only_for_its_time() -> None:
    clock = Clock()
    done = RecentlyDone(ttl=120.0, clock=clock)
    done.record("a", 1)
    assert done.covers("a", 1)
    assert not done.covers("a", 2)  # the spec changed since: not covered
    assert not done.covers("b", 1)
    assert not done.covers("a", None)  # no generation: nothing to compare, never covered
    clock.now += 60
    done.record("b", 3)
    clock.now += 61  # "a" is 121 s old, "b" 61 s
    assert not done.covers("a", 1)
    assert done.covers("b", 3)
    assert len(done) == 1  # the expired entry is gone, not only hidden
    done.forget("b")
    assert not done.covers("b", 3)


def test_recording_again_moves_an_object_to_the_end() -> None:
    clock = Clock()
    done = RecentlyDone(ttl=100.0, clock=clock)
    done.record("a", 1)
    clock.now += 50
    done.record("b", 1)
    clock.now += 40
    done.record("a", 2)  # done again later: it expires after "b" now
    clock.now += 70  # "b" is 110 s old, "a" 70 s
    assert done.covers("a", 2)
    assert not done.covers("b", 1)
