"""The bound on reconciles working at once (MAX_CONCURRENT_RECONCILES), with two queues.

When every slot is taken, work that can finish now goes before work that only moves something
long along: a ResourceGroup created by a user is Ready in one call, while the first call for a
Redis cache starts a create that runs for 20 minutes and its later calls are polls. Starting that
cache a few seconds later costs it nothing; making the group wait behind a thousand such calls
doubles its time to Ready. So waiters queue as URGENT (a user's change to an object whose kind
has not been seen running long in Azure) or BACKGROUND (polls, periodic syncs, and changes to
objects of kinds whose creates or updates run long), and a free slot goes to the oldest URGENT
waiter; a BACKGROUND waiter that has waited ``promote_after`` seconds goes first, so a steady
stream of urgent work cannot starve the polls.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Literal

__all__ = ["BACKGROUND", "URGENT", "Priority", "WorkGate"]

Priority = Literal["urgent", "background"]
URGENT: Priority = "urgent"
BACKGROUND: Priority = "background"

_Waiter = tuple[float, "asyncio.Future[None]"]


class WorkGate:
    """At most ``limit`` holders at once; free slots go to URGENT waiters first (see module)."""

    def __init__(
        self, limit: int, promote_after: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.promote_after = promote_after
        self.clock = clock
        self._free = limit
        self._queues: dict[Priority, collections.deque[_Waiter]] = {
            URGENT: collections.deque(),
            BACKGROUND: collections.deque(),
        }

    def waiting(self, priority: Priority) -> int:
        return len(self._queues[priority])

    @contextlib.asynccontextmanager
    async def slot(self, priority: Priority) -> AsyncIterator[None]:
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: Priority) -> None:
        if self._free > 0 and not any(self._queues.values()):
            self._free -= 1
            return
        waiter: _Waiter = (self.clock(), asyncio.get_running_loop().create_future())
        queue = self._queues[priority]
        queue.append(waiter)
        try:
            await waiter[1]
        except asyncio.CancelledError:
            if waiter[1].done() and not waiter[1].cancelled():
                self._release()  # handed a slot and cancelled before using it: pass it on
            else:
                queue.remove(waiter)
            raise

    def _release(self) -> None:
        while True:
            waiter = self._next()
            if waiter is None:
                self._free += 1
                return
            if not waiter[1].done():
                waiter[1].set_result(None)  # the slot passes straight to the waiter
                return

    def _next(self) -> _Waiter | None:
        urgent, background = self._queues[URGENT], self._queues[BACKGROUND]
        if background and (not urgent or self.clock() - background[0][0] >= self.promote_after):
            return background.popleft()
        return urgent.popleft() if urgent else None
