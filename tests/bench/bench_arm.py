"""Benchmark: request rate of the ARM emulator for simple SDK GETs and PUTs.

Starts the emulator as its own process (``python -m aso.sandbox.arm``), then runs CLIENTS
client processes, each with a real ``ResourceManagementClient`` (azure-identity credential,
TLS with the emulator's CA) doing resource-group GETs, then resource-group PUTs (create or
update), for a fixed time. Prints requests/second per phase, the emulator's own request counts
and the emulator's CPU time per request. Asserts nothing about time.

    python tests/bench/bench_arm.py [--clients 2] [--seconds 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aso.testing.arm import ArmEmulatorHandle, EmulatorProcess


def _client_loop(
    handle: ArmEmulatorHandle, phase: str, start: float, seconds: float, threads: int, worker: int
) -> int:
    rm = handle.resource_client()
    rm.resource_groups.get("bench")  # token and connection warm-up
    done = [0] * threads
    # Every process starts and stops at the same wall-clock times, after its imports.
    time.sleep(max(0.0, start - time.time()))
    deadline = time.monotonic() + seconds

    def run(t: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            if phase == "GET":
                rm.resource_groups.get("bench")
            else:
                # A plain (non-LRO) PUT: creates, then updates, 50 groups per thread.
                group = f"bench-{worker}-{t}-{n % 50}"
                rm.resource_groups.create_or_update(group, {"location": "westus2", "tags": {"n": str(n)}})
            n += 1
        done[t] = n

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return sum(done)


def _cpu_seconds(pid: int) -> float | None:
    """User+system CPU time of a process (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker(args: tuple[dict[str, Any], str, float, float, int, int]) -> int:
    fields, phase, start, seconds, threads, worker = args
    from aso.testing.arm import ArmControlClient

    handle = ArmEmulatorHandle(**fields, control=ArmControlClient(fields["endpoint"], fields["ca_bundle"]))
    return _client_loop(handle, phase, start, seconds, threads, worker)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per client process")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each phase")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="aso-bench-arm-") as tmp:
        server = EmulatorProcess(Path(tmp), retry_after=0)
        handle = server.start()
        try:
            handle.resource_client().resource_groups.create_or_update("bench", {"location": "westus2"})
            fields = {
                k: getattr(handle, k)
                for k in (
                    "endpoint",
                    "ca_bundle",
                    "tenant_id",
                    "client_id",
                    "client_secret",
                    "subscription_id",
                )
            }
            ctx = mp.get_context("spawn")
            with ctx.Pool(args.clients) as pool:
                for phase in ("GET", "PUT"):
                    handle.control.reset_counts()
                    cpu_before = _cpu_seconds(server.proc.pid) if server.proc else None
                    start = time.time() + 3.0
                    jobs = [
                        (fields, phase, start, args.seconds, args.threads, w) for w in range(args.clients)
                    ]
                    total = sum(pool.map(_worker, jobs))
                    seen = handle.control.counts()
                    cpu_after = _cpu_seconds(server.proc.pid) if server.proc else None
                    if cpu_before is not None and cpu_after is not None and seen.total:
                        per_request = (cpu_after - cpu_before) / seen.total
                        print(
                            f"arm emulator {phase}: emulator CPU {per_request * 1e6:,.0f} us/request "
                            f"(one core would serve {1 / per_request:,.0f} req/s)"
                        )
                    print(
                        f"arm emulator {phase}: {total / args.seconds:,.0f} req/s from SDK clients "
                        f"({args.clients} processes x {args.threads} threads, {total} requests in "
                        f"{args.seconds:g}s; the emulator counted {seen.total} including warm-up)"
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
