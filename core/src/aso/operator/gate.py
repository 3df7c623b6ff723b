"""The bound on reconciles working at once (MAX_CONCURRENT_RECONCILES), with queues by kind.

When every slot is taken, work that can finish now goes before work that only moves something
long along: a ResourceGroup created by a user is Ready in one call, while the first call for a
Redis cache starts a create that runs for 20 minutes and its later calls are polls. Starting that
cache a few seconds later costs it nothing; making the group wait behind a thousand such calls
doubles its time to Ready.

So waiters queue by key: their kind's name, or :data:`BACKGROUND` (polls, periodic syncs, objects
with an operation running). Which kinds run long is learned while the operator runs and asked at
the moment a slot is free, not when the waiter queued: a burst of creates queues before the first
of them has come back from Azure. A free slot goes to the oldest waiter of a kind not known to run
long; else to the oldest of the rest, but only while the operator has time to spare: while its
event loop is saturated (:class:`LoopLag`; kopf's own work on a burst of new objects is most of
it), slow work would take the CPU that quick work still queued in kopf needs, so it waits. A
waiter of the rest that has waited ``promote_after`` seconds goes first whatever the load, so a
steady stream of quick work or a busy loop never starves the polls.
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
    ``runs_long(kind)`` says whether a kind's writes have been seen running long in Azure."""

    def __init__(
        self,
        limit: int,
        runs_long: Callable[[str], bool],
        promote_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.limit = limit
        self.runs_long = runs_long
        self.promote_after = promote_after
        self.clock = clock
        #: True while the operator has no time to spare: slow work waits (see the module).
        self.busy = busy
        self._free = limit
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
            self._release()

    def _quick(self, key: str) -> bool:
        return key != BACKGROUND and not self.runs_long(key)

    async def _acquire(self, key: str) -> None:
        if self._free > 0 and not self._queues and (self._quick(key) or not self.busy()):
            self._free -= 1
            return
        waiter: _Waiter = (self.clock(), asyncio.get_running_loop().create_future())
        queue = self._queues.setdefault(key, collections.deque())
        queue.append(waiter)
        self.poke()  # a slot may be free for it (held back only from slow work while busy)
        try:
            await waiter[1]
        except asyncio.CancelledError:
            if waiter[1].done() and not waiter[1].cancelled():
                self._release()  # handed a slot and cancelled before using it: pass it on
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it already
                    queue.remove(waiter)
                if not queue and self._queues.get(key) is queue:
                    del self._queues[key]
            raise

    def _release(self) -> None:
        self._free += 1
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
                self._free -= 1
                future.set_result(None)  # the slot passes straight to the waiter

    def _next_key(self) -> str | None:
        """The queue whose head gets a free slot, if any may have it now (a few queues: one per
        kind)."""
        quick: tuple[float, str] | None = None
        slow: tuple[float, str] | None = None
        for key, queue in self._queues.items():
            head = (queue[0][0], key)
            if self._quick(key):
                quick = head if quick is None or head < quick else quick
            else:
                slow = head if slow is None or head < slow else slow
        if slow is not None and self.clock() - slow[0] >= self.promote_after:
            return slow[1]
        if quick is not None:
            return quick[1]
        if slow is not None and not self.busy():
            return slow[1]
        return None


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
