"""The bound on reconciles working at once (MAX_CONCURRENT_RECONCILES), with queues by kind.

When every slot is taken, work that can finish now goes before work that only moves something
long along: a ResourceGroup created by a user is Ready in one call, while the first call for a
Redis cache starts a create that runs for 20 minutes and its later calls are polls. Starting that
cache a few seconds later costs it nothing; making the group wait behind a thousand such calls
doubles its time to Ready.

So waiters queue by key: their kind's name, or :data:`BACKGROUND` (polls, periodic syncs, objects
with an operation running). Which kinds run long is learned while the operator runs and asked at
the moment a slot is free, not when the waiter queued: a burst of creates queues before the first
of them has come back from Azure. Until a kind's first call has told its pace, at most ``probes``
of its objects hold a slot at once; without that, the first burst of a slow kind (a hundred Redis
caches applied together) would all start before the first of them came back running, among the
quick work. A free slot goes to the oldest waiter of a kind known to be quick or still probing;
else to the oldest of the rest, but only while the operator has time to spare: the event loop is
not saturated (:class:`LoopLag`) and no burst of quick work is on: fewer quick asks in the last
``quiet`` seconds than there are slots. Otherwise slow work would take the CPU that quick work
still queued in kopf needs: a saturated loop's timers can still be on time, and a burst of quick
work comes with gaps of a second or more (the API server and kopf have their own queues), so the
lag alone, or a one-second quiet, let a tenth of a burst of slow creates start among the quick
ones (measured, ``tests/bench/bench_long_operations.py``). A few quick calls (objects retrying an
error) are no burst and hold nothing back; a slow create that starts five seconds later loses
nothing. A waiter of the rest that has waited ``promote_after`` seconds goes first whatever the
load, so a steady stream of quick work or a busy loop never starves the polls.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Callable

__all__ = ["BACKGROUND", "LoopLag", "WorkGate"]

#: The queue of polls and periodic syncs, and of objects whose operation runs in Azure.
BACKGROUND = ""

_Waiter = tuple[float, "asyncio.Future[None]"]


class WorkGate:
    """At most ``limit`` holders at once; free slots go to quick kinds first (see the module).
    ``runs_long(kind)`` says whether a kind's writes have been seen running long in Azure (True),
    seen finishing at once (False), or not seen yet (None)."""

    def __init__(
        self,
        limit: int,
        runs_long: Callable[[str], bool | None],
        promote_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        busy: Callable[[], bool] = lambda: False,
        quiet: float = 5.0,
        probes: int = 2,
    ) -> None:
        self.limit = limit
        self.runs_long = runs_long
        self.promote_after = promote_after
        self.clock = clock
        #: True while the event loop has no time to spare: slow work waits (see the module).
        self.busy = busy
        self.quiet = quiet
        #: Slots a kind not seen yet may hold at once, until its first call tells its pace.
        self.probes = probes
        #: When quick work last asked for a slot: the last ``limit`` asks are all a burst needs.
        self._quick_asks: collections.deque[float] = collections.deque(maxlen=limit)
        self._timer: asyncio.TimerHandle | None = None
        self._free = limit
        self._holding: collections.Counter[str] = collections.Counter()
        self._queues: dict[str, collections.deque[_Waiter]] = {}

    def waiting(self, key: str) -> int:
        return len(self._queues.get(key, ()))

    @contextlib.asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """Hold one slot; ``key`` is the object's kind, or :data:`BACKGROUND`."""
        await self._acquire(key)
        try:
            yield
        finally:
            self._release(key)

    def _pace(self, key: str) -> bool | None:
        """True for slow work, False for quick, None for a kind whose pace is not known yet."""
        return True if key == BACKGROUND else self.runs_long(key)

    def _first(self, key: str, pace: bool | None) -> bool:
        """Quick work, or a kind not seen yet with a probe to spare: goes before slow work."""
        return pace is False or (pace is None and self._holding[key] < self.probes)

    def _spare_time(self) -> bool:
        """Whether slow work may start now (see the module)."""
        return not self._burst() and not self.busy()

    def _burst(self) -> bool:
        """Quick work asked for as many slots as there are in the last ``quiet`` seconds."""
        asks = self._quick_asks
        return len(asks) == self.limit and asks[0] > self.clock() - self.quiet

    async def _acquire(self, key: str) -> None:
        pace = self._pace(key)
        if pace is False:
            self._quick_asks.append(self.clock())
        if self._free > 0 and not self._queues and (self._first(key, pace) or (pace and self._spare_time())):
            self._take(key)
            return
        waiter: _Waiter = (self.clock(), asyncio.get_running_loop().create_future())
        queue = self._queues.setdefault(key, collections.deque())
        queue.append(waiter)
        self.poke()  # a slot may be free for it (held back only from slow work while busy)
        try:
            await waiter[1]
        except asyncio.CancelledError:
            if waiter[1].done() and not waiter[1].cancelled():
                self._release(key)  # handed a slot and cancelled before using it: pass it on
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it already
                    queue.remove(waiter)
                if not queue and self._queues.get(key) is queue:
                    del self._queues[key]
            raise

    def _take(self, key: str) -> None:
        self._free -= 1
        self._holding[key] += 1

    def _release(self, key: str) -> None:
        self._free += 1
        self._holding[key] -= 1
        if not self._holding[key]:
            del self._holding[key]
        self.poke()

    def poke(self) -> None:
        """Hand free slots to the waiters that may have them now (after a release, and when the
        load changes: the :class:`LoopLag` calls it at every tick)."""
        while self._free > 0:
            key = self._next_key()
            if key is None:
                return
            queue = self._queues[key]
            _, future = queue.popleft()
            if not queue:
                del self._queues[key]
            if not future.done():
                self._take(key)
                future.set_result(None)  # the slot passes straight to the waiter

    def _next_key(self) -> str | None:
        """The queue whose head gets a free slot, if any may have it now (a few queues: one per
        kind). Quick kinds and probes of kinds not seen yet first, oldest first."""
        first: tuple[float, str] | None = None
        slow: tuple[float, str] | None = None
        held: tuple[float, str] | None = None  # the oldest of all held back (for promotion)
        for key, queue in self._queues.items():
            head = (queue[0][0], key)
            pace = self._pace(key)
            if self._first(key, pace):
                first = head if first is None or head < first else first
                continue
            if pace:
                slow = head if slow is None or head < slow else slow
            held = head if held is None or head < held else held
        if held is not None and self.clock() - held[0] >= self.promote_after:
            return held[1]
        if first is not None:
            return first[1]
        if slow is not None:
            if self._spare_time():
                return slow[1]
            self._poke_when_quiet()
        return None

    def _poke_when_quiet(self) -> None:
        """Come back once the burst of quick work is over (a busy loop's meter pokes too)."""
        loop = asyncio.get_running_loop()
        if self._burst() and (self._timer is None or self._timer.when() <= loop.time()):
            wait = max(0.01, self._quick_asks[0] + self.quiet - self.clock())
            self._timer = loop.call_later(wait, self.poke)


class LoopLag:
    """How late the event loop runs a timer: ``busy`` while a smoothed lag is over ``threshold``
    seconds (the loop has no time to spare). ``run`` measures every ``interval`` seconds and calls
    ``on_tick`` after each measurement."""

    def __init__(self, threshold: float = 0.025, interval: float = 0.1) -> None:
        self.threshold = threshold
        self.interval = interval
        self.lag = 0.0

    def busy(self) -> bool:
        return self.lag > self.threshold

    async def run(self, on_tick: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.interval)
            late = max(0.0, loop.time() - started - self.interval)
            self.lag = 0.7 * self.lag + 0.3 * late
            on_tick()
