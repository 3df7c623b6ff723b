"""Benchmark: request rate of the ARM emulator for simple SDK GETs and PUTs.

Starts the emulator as its own process (``python -m aso.sandbox.arm``), then runs CLIENTS
client processes, each with a real ``ResourceManagementClient`` (azure-identity credential,
TLS with the emulator's CA) doing resource-group GETs, then resource-group PUTs (create or
update), for a fixed time. Prints requests/second per phase, the emulator's own request counts
and the emulator's CPU time per request. Then, unless ``--skip-baseline``, the same clients run
against a do-nothing aiohttp TLS server (one static answer, a static token), taking turns with
the emulator: the ceiling the emulator is compared with on this machine, at this moment. Asserts
nothing about time.

    python tests/bench/bench_arm.py [--clients 2] [--threads 1] [--seconds 5] [--rounds 1] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aso.testing.arm import ArmControlClient, ArmEmulatorHandle, EmulatorProcess

PHASES = ("GET", "PUT")


class _StaticToken:
    """Credential of the do-nothing baseline server, which checks no token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("baseline", int(time.time()) + 3600)


def _client(target: dict[str, Any]) -> Any:
    from azure.mgmt.resource.resources import ResourceManagementClient

    if target["kind"] == "emulator":
        fields = {k: v for k, v in target.items() if k != "kind"}
        handle = ArmEmulatorHandle(
            **fields, control=ArmControlClient(fields["endpoint"], fields["ca_bundle"])
        )
        return handle.resource_client()
    return ResourceManagementClient(
        _StaticToken(),
        "00000000-0000-0000-0000-000000000000",
        base_url=target["endpoint"],
        credential_scopes=["https://management.azure.com/.default"],
        connection_verify=target["ca_bundle"],
        use_env_settings=False,
    )


def _worker(args: tuple[dict[str, Any], str, float, float, int, int]) -> int:
    """One client process: ``threads`` threads sending ``phase`` requests for ``seconds``."""
    target, phase, start, seconds, threads, worker = args
    rm = _client(target)
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


def _serve_nothing(ports: Any, ca_file: str) -> None:
    """The baseline: an aiohttp TLS server answering every request with one resource group."""
    import asyncio
    import ssl

    import trustme
    from aiohttp import web

    ca = trustme.CA()
    ca.cert_pem.write_to_path(ca_file)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    body = json.dumps(
        {
            "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/bench",
            "name": "bench",
            "type": "Microsoft.Resources/resourceGroups",
            "location": "westus2",
            "properties": {"provisioningState": "Succeeded"},
        }
    ).encode()

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
        await site.start()
        server = site._server
        assert server is not None
        ports.put(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        await asyncio.Event().wait()

    asyncio.run(main())


def _cpu_seconds(pid: int) -> float | None:
    """User+system CPU time of a process (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_phase(pool: Any, target: dict[str, Any], phase: str, args: argparse.Namespace) -> int:
    start = time.time() + 3.0
    jobs = [(target, phase, start, args.seconds, args.threads, w) for w in range(args.clients)]
    return sum(pool.map(_worker, jobs))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per client process")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each phase")
    parser.add_argument("--rounds", type=int, default=1, help="times to repeat the phases")
    parser.add_argument("--skip-baseline", action="store_true", help="do not measure the do-nothing server")
    # ``nox -s bench -- ...`` hands the same arguments to every benchmark: ignore the others'.
    args, _ = parser.parse_known_args()
    shape = f"{args.clients} processes x {args.threads} threads, {args.seconds:g}s"
    ctx = mp.get_context("spawn")

    with tempfile.TemporaryDirectory(prefix="aso-bench-arm-") as tmp:
        server = EmulatorProcess(Path(tmp), retry_after=0)
        handle = server.start()
        baseline = None
        try:
            handle.resource_client().resource_groups.create_or_update("bench", {"location": "westus2"})
            target = {"kind": "emulator"} | {
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
            base_target: dict[str, Any] | None = None
            if not args.skip_baseline:
                ports: Any = ctx.Queue()
                ca_file = str(Path(tmp) / "baseline-ca.pem")
                baseline = ctx.Process(target=_serve_nothing, args=(ports, ca_file), daemon=True)
                baseline.start()
                endpoint = f"https://127.0.0.1:{ports.get(timeout=60)}"
                base_target = {"kind": "baseline", "endpoint": endpoint, "ca_bundle": ca_file}
            with ctx.Pool(args.clients) as pool:
                # Emulator and baseline take turns, so both see the same machine load.
                for _ in range(args.rounds):
                    for phase in PHASES:
                        handle.control.reset_counts()
                        cpu_before = _cpu_seconds(server.proc.pid) if server.proc else None
                        total = _run_phase(pool, target, phase, args)
                        seen = handle.control.counts()
                        cpu_after = _cpu_seconds(server.proc.pid) if server.proc else None
                        cpu = ""
                        if cpu_before is not None and cpu_after is not None and seen.total:
                            per_request = (cpu_after - cpu_before) / seen.total
                            cpu = f"; emulator CPU {per_request * 1e6:,.0f} us/request"
                        print(
                            f"arm emulator {phase}: {total / args.seconds:,.0f} req/s from SDK clients "
                            f"({shape}; {total} requests, the emulator counted {seen.total} "
                            f"with warm-up{cpu})",
                            flush=True,
                        )
                        if base_target is not None:
                            total = _run_phase(pool, base_target, phase, args)
                            print(
                                f"do-nothing aiohttp TLS server {phase}: {total / args.seconds:,.0f} req/s "
                                f"from the same SDK clients ({shape})",
                                flush=True,
                            )
        finally:
            server.stop()
            if baseline is not None:
                baseline.terminate()
                baseline.join(10)


if __name__ == "__main__":
    main()
