"""Benchmark of the local Kubernetes API server: GET/PATCH rates and watch fan-out at 100 and 10,000 objects.

Run with ``python tests/bench/bench_kube.py`` (``nox -s bench`` runs it). The server runs as its own
process (``python -m aso.sandbox.kube``) so the load generator does not share its CPU; the client
is aiohttp with a fixed number of concurrent workers. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml

GROUP = "bench.aso.dev"
PLURAL = "gadgets"
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{PLURAL}.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"kind": "Gadget", "plural": PLURAL, "singular": "gadget", "listKind": "GadgetList"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["location"],
                                "properties": {
                                    "location": {"type": "string"},
                                    "replicas": {"type": "integer", "default": 1},
                                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                                },
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}
BASE = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _body(i: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Gadget",
        "metadata": {"name": f"g{i:05d}", "labels": {"shard": str(i % 10)}},
        "spec": {"location": "westeurope", "tags": {"owner": "bench"}},
    }


async def _run_workers(count: int, concurrency: int, job: Any) -> float:
    """Run ``job(i)`` for i in range(count) on ``concurrency`` workers; return requests per second."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            await job(queue.get_nowait())

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - start)


async def _populate(
    session: aiohttp.ClientSession, url: str, start: int, stop: int, concurrency: int
) -> float:
    async def create(i: int) -> None:
        async with session.post(url + BASE, json=_body(start + i)) as response:
            assert response.status == 201, await response.text()
            await response.read()

    return await _run_workers(stop - start, concurrency, create)


async def _measure(
    session: aiohttp.ClientSession, url: str, objects: int, requests: int, concurrency: int
) -> dict[str, float]:
    names = [f"g{i:05d}" for i in range(objects)]

    async def get(i: int) -> None:
        async with session.get(f"{url}{BASE}/{random.choice(names)}") as response:
            assert response.status == 200
            await response.read()

    async def patch(i: int) -> None:
        body = json.dumps({"metadata": {"annotations": {"bench/tick": str(i)}}})
        async with session.patch(f"{url}{BASE}/{random.choice(names)}", data=body, headers=MERGE) as response:
            assert response.status == 200, await response.text()
            await response.read()

    async def patch_status(i: int) -> None:
        body = json.dumps({"status": {"observed": i}})
        async with session.patch(
            f"{url}{BASE}/{random.choice(names)}/status", data=body, headers=MERGE
        ) as response:
            assert response.status == 200, await response.text()
            await response.read()

    results = {
        "GET/s": await _run_workers(requests, concurrency, get),
        "PATCH/s": await _run_workers(requests, concurrency, patch),
        "PATCH status/s": await _run_workers(requests, concurrency, patch_status),
    }
    start = time.perf_counter()
    async with session.get(url + BASE) as response:
        items = (await response.json())["items"]
    results["LIST all (ms)"] = (time.perf_counter() - start) * 1000
    assert len(items) == objects
    return results


async def _fan_out(
    session: aiohttp.ClientSession, url: str, objects: int, watchers: int, changes: int
) -> dict[str, float]:
    """``watchers`` watch streams; ``changes`` patches; time until every watcher saw every change."""
    async with session.get(url + BASE + "?limit=1") as response:
        rv = (await response.json())["metadata"]["resourceVersion"]
    received = [0] * watchers
    done = asyncio.Event()
    all_started = asyncio.Event()
    started = 0
    forever = aiohttp.ClientTimeout(total=None)

    async def watch(slot: int) -> None:
        nonlocal started
        async with session.get(f"{url}{BASE}?watch=true&resourceVersion={rv}", timeout=forever) as response:
            started += 1
            if started == watchers:
                all_started.set()
            async for _line in response.content:
                received[slot] += 1
                if received[slot] >= changes and all(r >= changes for r in received):
                    done.set()
                if received[slot] >= changes:
                    return

    tasks = [asyncio.create_task(watch(i)) for i in range(watchers)]
    await asyncio.wait_for(all_started.wait(), 60)
    start = time.perf_counter()
    names = [f"g{i:05d}" for i in range(objects)]

    async def patch(i: int) -> None:
        body = json.dumps({"metadata": {"annotations": {"bench/fan": str(i)}}})
        async with session.patch(
            f"{url}{BASE}/{names[i % len(names)]}", data=body, headers=MERGE
        ) as response:
            await response.read()

    await _run_workers(changes, 8, patch)
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "watchers": watchers,
        "changes": changes,
        "events delivered/s": watchers * changes / elapsed,
        "all seen (s)": elapsed,
    }


async def run(
    url: str, sizes: list[int], requests: int, concurrency: int, watchers: int, changes: int
) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency + watchers + 8)
    async with aiohttp.ClientSession(connector=connector) as session:
        print(
            f"Kubernetes API server benchmark ({url}; {concurrency} clients, {requests} requests per figure)"
        )
        populated = 0
        for size in sizes:
            rate = await _populate(session, url, populated, size, concurrency)
            populated = size
            figures = await _measure(session, url, size, requests, concurrency)
            fan = await _fan_out(session, url, size, watchers, changes)
            print(
                f"{size:>6} objects: CREATE {rate:7.0f}/s  GET {figures['GET/s']:7.0f}/s  "
                f"PATCH {figures['PATCH/s']:7.0f}/s  PATCH status {figures['PATCH status/s']:7.0f}/s  "
                f"LIST all {figures['LIST all (ms)']:6.0f} ms"
            )
            print(
                f"{size:>6} objects: watch fan-out {fan['watchers']} watchers x {fan['changes']} changes: "
                f"{fan['events delivered/s']:8.0f} events/s, all seen in {fan['all seen (s)']:.2f} s"
            )


def main(sizes: list[int], requests: int, concurrency: int, watchers: int, changes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        crd_file = Path(tmp) / "crd.yaml"
        crd_file.write_text(yaml.safe_dump(CRD))
        server = subprocess.Popen(
            [sys.executable, "-m", "aso.sandbox.kube", "--port", "0", "--crd", str(crd_file)],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stderr is not None
            url = server.stderr.readline().split()[-1]
            asyncio.run(run(url, sizes, requests, concurrency, watchers, changes))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,10000", help="object counts to measure at, ascending")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--changes", type=int, default=200)
    args, _ = parser.parse_known_args()  # nox -s bench passes every script the same arguments
    main(
        [int(s) for s in args.sizes.split(",")], args.requests, args.concurrency, args.watchers, args.changes
    )
