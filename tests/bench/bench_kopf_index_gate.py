"""kopf's index gate alone: how long until every object's worker may run its handlers.

    python tests/bench/bench_kopf_index_gate.py [--gate-n 250 500 1000]

With any ``@kopf.index`` (aso's claims index), kopf runs no handler of any object before every
object is indexed. It keeps one toggle per object in a ``ToggleSet`` under one
``asyncio.Condition``: a worker drops its toggle once its object is indexed, then waits until the
whole set is off; every toggle made or dropped wakes every waiting worker. This script replays that
with kopf's own ``ToggleSet`` and nothing else (no API server, no handlers): objects arrive one
event-loop turn apart, as a listing delivers them. Prints seconds until every worker passed.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from kopf._cogs.aiokits import aiotoggles


async def gate(n: int) -> float:
    toggles = aiotoggles.ToggleSet(any)
    listing = await toggles.make_toggle(True, name="listing")  # off once the list is read

    async def worker(toggle: aiotoggles.Toggle) -> None:
        await toggles.drop_toggle(toggle)  # indexed
        await toggles.wait_for(False)  # every other object indexed too

    started = time.perf_counter()
    workers = []
    for i in range(n):
        toggle = await toggles.make_toggle(True, name=f"object {i}")
        workers.append(asyncio.create_task(worker(toggle)))
        await asyncio.sleep(0)
    await toggles.drop_toggle(listing)
    await asyncio.gather(*workers)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--gate-n", type=int, nargs="+", default=[250, 500, 1000], help="object counts")
    args, _ = parser.parse_known_args()  # nox -s bench passes every script the same arguments
    print("kopf index gate (kopf's ToggleSet alone, objects one loop turn apart)")
    for n in args.gate_n:
        print(f"  {n:6d} objects: {asyncio.run(gate(n)):7.2f} s until every worker passed", flush=True)


if __name__ == "__main__":
    main()
