"""Benchmark: long-running creates must not slow anything else down (handlers never wait).

    python tests/bench/bench_long_operations.py [--long-n 1000] [--seconds 60] [--retry-after 15]

Everything on 127.0.0.1, as in ``bench_operator.py`` (its Kubernetes API server worker and process
helpers are reused): the ARM emulator answers Widget creates (a test-only kind) with an operation
that ends after ``--seconds`` and asks to be polled every ``--retry-after`` seconds; ResourceGroup
creates answer at once.

Phases:

1. *synchronous alone*: N ResourceGroups, time from the first create to all Ready.
2. *together*: N Widgets with long creates and N more ResourceGroups, created interleaved; the time
   until all ResourceGroups are Ready (the figure to compare with phase 1), then until all Widgets
   are Ready, with ARM polls per Widget.

Each phase starts with the operator idle: the watch events of a burst's own writes reach it after
its objects are Ready, and a phase started then would queue behind them. Each phase also prints
the CPU seconds of every process (the bench, the API server, the ARM emulator, the operator): the
operator's extra seconds in the second phase are what the Widgets cost it before any of them may
start.

Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_operator as bo  # a sibling script, not a package

ROOT = bo.ROOT
TESTKINDS = ROOT / "tests" / "testkinds"
sys.path.insert(0, str(TESTKINDS))
WIDGETS = "/apis/test.aso.dev/v1api20240101/namespaces/default/widgets"
ALL_WIDGETS = "/apis/test.aso.dev/v1api20240101storage/widgets"  # stored: no conversion to list


def _widget(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "test.aso.dev/v1api20240101",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": bo.NAMESPACE},
        "spec": {"owner": {"name": "owner"}, "location": "westeurope", "size": "Small"},
    }


async def _create(
    url: str, docs: list[tuple[str, dict[str, Any]]], concurrency: int = 16
) -> dict[str, float]:
    """POST every document; when each create was answered (name -> monotonic time)."""
    import aiohttp

    posted: dict[str, float] = {}

    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for item in docs:
        queue.put_nowait(item)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            path, doc = queue.get_nowait()
            async with session.post(url + path, json=doc, headers={"User-Agent": bo.BENCH_UA}) as resp:
                if resp.status != 201:
                    raise RuntimeError(f"create {doc['metadata']['name']}: {resp.status} {await resp.text()}")
            posted[doc["metadata"]["name"]] = time.monotonic()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return posted


class ReadyWatch:
    """When each object of a collection was first seen Ready, from one watch in a thread: polling
    lists of thousands of objects would load the API server whose speed is being measured, and
    more so in the phase with twice the objects."""

    def __init__(self, url: str, collection: str) -> None:
        self.url, self.collection = url, collection
        self.seen: dict[str, float] = {}
        self._lock = threading.Lock()
        version = self._list()
        threading.Thread(target=self._watch, args=(version,), name=f"watch {collection}", daemon=True).start()

    def _list(self) -> str:
        listing = bo._http("GET", self.url + self.collection)
        for obj in listing["items"]:
            self._observe(obj)
        return str(listing["metadata"]["resourceVersion"])

    def _observe(self, obj: dict[str, Any]) -> None:
        if bo._is_ready(obj):
            with self._lock:
                self.seen.setdefault(obj["metadata"]["name"], time.monotonic())

    def _watch(self, version: str) -> None:
        import urllib.request

        while True:
            query = f"?watch=1&resourceVersion={version}&timeoutSeconds=3600"
            request = urllib.request.Request(
                self.url + self.collection + query, headers={"User-Agent": bo.BENCH_UA}
            )
            try:
                with urllib.request.urlopen(request, timeout=3600) as stream:
                    for line in stream:
                        event = json.loads(line)
                        if event["type"] == "ERROR":  # expired: list again, watch from there
                            version = self._list()
                            break
                        version = event["object"]["metadata"]["resourceVersion"]
                        self._observe(event["object"])
            except (OSError, http.client.HTTPException):
                return  # the API server stopped (the bench is ending; else wait() times out)

    def ready(self, prefix: str) -> int:
        with self._lock:
            return sum(1 for name in self.seen if name.startswith(prefix))

    def wait(self, prefix: str, n: int, timeout: float, alive: Any) -> float:
        """Until ``n`` objects named ``prefix*`` were seen Ready; when the last of them was."""
        deadline = time.monotonic() + timeout
        while self.ready(prefix) < n:
            alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{prefix}*: not all {n} Ready after {timeout:.0f}s")
            time.sleep(0.1)  # the bench's own poll of a counter the watch thread keeps
        with self._lock:
            return max(at for name, at in self.seen.items() if name.startswith(prefix))


def _latency(posted: dict[str, float], seen: dict[str, float], prefix: str) -> str:
    """Median and 95th percentile of create answered -> seen Ready, over the objects named ``prefix*``."""
    waits = sorted(seen[name] - at for name, at in posted.items() if name.startswith(prefix))
    return f"median {statistics.median(waits):.1f}s, p95 {waits[int(0.95 * (len(waits) - 1))]:.1f}s"


def _settle(pid: int, timeout: float = 120.0) -> float:
    """Until the operator is idle (under 10% of a CPU over half a second): it may still be working
    through the watch events of the objects just Ready (each create's writes come back as events,
    read after the object is Ready), and a phase started then would queue behind them. Returns
    the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        before = bo._cpu_seconds(pid)
        time.sleep(0.5)
        if bo._cpu_seconds(pid) - before < 0.05:
            break
    return time.monotonic() - start


def _cpu(bench: bo.Bench) -> str:
    """CPU seconds each process spent since the counts were reset (2 cores share them all)."""
    return ", ".join(f"{name} {seconds:.1f}" for name, seconds in sorted(bench.cpu().items()))


def _wait_ready(port: int, child: bo.Child, timeout: float = 60.0) -> None:
    """Until the operator answers /readyz (its webhook is then serving)."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        child.check()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the operator did not become ready")
        time.sleep(0.1)


def run(args: argparse.Namespace, workdir: Path) -> int:
    from aso_testkinds.plugin import WIDGET

    from aso.crd import build_crd
    from aso.sandbox.runner import point_webhook
    from aso.testing.arm import EmulatorProcess
    from aso.testing.operator import plugin_path

    n = args.long_n
    bench = bo.Bench(argparse.Namespace(concurrency=args.concurrency, log_level=args.log_level), workdir)
    # Every write converts through aso's webhook (objects are stored at ASO's storage versions); here
    # the operator serves it, as in a cluster, and the CRDs point at it.
    crds = bench.webhook.crds()
    widget_crd = point_webhook(build_crd(WIDGET), bench.webhook.url, bench.webhook.ca_pem)
    (crds / "widgets.yaml").write_text(json.dumps(widget_crd))
    webhook_env = {
        "ASO_WEBHOOK_ADDRESS": f"127.0.0.1:{bench.webhook.port}",
        "ASO_WEBHOOK_CERT": str(bench.webhook.cert),
        "ASO_WEBHOOK_KEY": str(bench.webhook.key),
    }
    kube = bo.Child("kube API server", workdir / "kube.log")
    bench.children.append(kube)
    emulator: EmulatorProcess | None = None
    timeout = max(180.0, n * 0.5 + args.seconds * 3)
    try:
        kube.start(
            [
                sys.executable,
                str(Path(bo.__file__).resolve()),
                "--kube-worker",
                "--crds",
                str(crds),
                "--kubeconfig",
                str(bench.kubeconfig),
            ],
            dict(os.environ),
        )
        bench.kube_url = bo._wait_for_url(kube, 60.0)
        bench.watched["kube"] = kube.pid
        (workdir / "arm").mkdir()
        emulator = EmulatorProcess(workdir / "arm", retry_after=-1)  # the profiles' own Retry-After
        with bo._stdio_to(workdir / "arm.log"):
            bench.arm = emulator.start()
        assert emulator.proc is not None
        bench.watched["arm"] = emulator.proc.pid
        bench.arm.control.set_lro(
            "Microsoft.AsoTest/widgets",
            "PUT",
            mode="async",
            polls=max(1, int(args.seconds // args.retry_after)),
            delay=args.seconds,
            retry_after=args.retry_after,
        )
        namespaces = [
            ns["metadata"]["name"] for ns in bo._http("GET", bench.kube_url + "/api/v1/namespaces")["items"]
        ]
        if bo.NAMESPACE not in namespaces:
            bo._http("POST", bench.kube_url + "/api/v1/namespaces", {"metadata": {"name": bo.NAMESPACE}})
        site = plugin_path(workdir / "site", {"testkinds": "aso_testkinds.plugin"}, [TESTKINDS])
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [site.pythonpath, os.environ.get("PYTHONPATH")])
        )
        operator = bo.Child("operator", workdir / "operator.log")
        bench.children.append(operator)
        command = [sys.executable, "-m", "aso", "--log-level", args.log_level, "run"]
        operator.start(command, {**bench.operator_env("never"), **webhook_env})
        bench.watched["operator"] = operator.pid
        _wait_ready(bench.metrics_port, operator)
        print(
            f"Long-operation benchmark: N={n}, Widget creates take {args.seconds:g}s "
            f"(Retry-After {args.retry_after:g}s), MAX_CONCURRENT_RECONCILES={args.concurrency}, "
            f"{os.cpu_count()} CPUs",
            flush=True,
        )
        groups = ReadyWatch(bench.kube_url, bo.ALL_OBJECTS)
        widgets = ReadyWatch(bench.kube_url, ALL_WIDGETS)
        asyncio.run(_create(bench.kube_url, [(bo.COLLECTION, bo._rg("owner"))]))
        groups.wait("owner", 1, 120, operator.check)

        # 1. synchronous creates alone
        _settle(operator.pid)
        bench.reset_counts()
        start = time.monotonic()
        posted = asyncio.run(
            _create(bench.kube_url, [(bo.COLLECTION, bo._rg(f"s-{i:05d}")) for i in range(n)])
        )
        alone = groups.wait("s-", n, timeout, operator.check) - start
        alone_latency = _latency(posted, groups.seen, "s-")
        alone_cpu = _cpu(bench)
        print(
            f"  synchronous alone:    {n} ResourceGroups Ready in {alone:.1f}s ({n / alone:.1f}/s); "
            f"all created after {max(posted.values()) - start:.1f}s; create to Ready {alone_latency}; "
            f"CPU seconds {alone_cpu}",
            flush=True,
        )

        # 2. together with long creates
        settled = _settle(operator.pid)
        print(f"{'':24}(the operator was idle {settled:.1f}s after they were Ready)", flush=True)
        bench.reset_counts()
        docs: list[tuple[str, dict[str, Any]]] = []
        for i in range(n):
            docs.append((WIDGETS, _widget(f"w-{i:05d}")))
            docs.append((bo.COLLECTION, bo._rg(f"t-{i:05d}")))
        start = time.monotonic()
        posted = asyncio.run(_create(bench.kube_url, docs))
        together = groups.wait("t-", n, timeout, operator.check) - start
        widgets_pending = n - widgets.ready("w-")
        together_cpu = _cpu(bench)
        started = bench.arm_counts().get("PUT", {}).get("microsoft.asotest/widgets", 0)
        long_done = widgets.wait("w-", n, timeout, operator.check) - start
        arm = bench.arm_counts()
        polls = sum(c for t, c in arm.get("GET", {}).items() if bo._is_poll(t))
        puts = arm.get("PUT", {}).get("microsoft.asotest/widgets", 0)
        print(
            f"  together:             {n} ResourceGroups Ready in {together:.1f}s ({n / together:.1f}/s) "
            f"while {widgets_pending} of {n} Widgets were still being created ({started} started in Azure); "
            f"all {2 * n} created "
            f"after {max(posted.values()) - start:.1f}s; "
            f"create to Ready {_latency(posted, groups.seen, 't-')} (alone: {alone_latency}); "
            f"CPU seconds until then {together_cpu}",
            flush=True,
        )
        print(
            f"                        {n} Widgets Ready in {long_done:.1f}s; {puts / n:.2f} PUTs and "
            f"{polls / n:.2f} operation polls per Widget",
            flush=True,
        )
        verdict = "yes" if together <= alone * 1.1 else "NO"
        print(
            f"  synchronous creates as fast as alone (within 10%): {verdict} "
            f"(together/alone = {together / alone:.2f}); "
            f"operator peak RSS {bo._peak_rss_mb(operator.pid):.0f} MB",
            flush=True,
        )
        return 0
    finally:
        bench.stop(emulator)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    # Not --n: `nox -s bench -- --n 10000` sizes the throughput benchmark; this phase is the
    # operator issue's 1,000 long creates next to 1,000 synchronous ones.
    parser.add_argument("--long-n", type=int, default=1000, help="objects of each sort")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long a Widget create takes")
    parser.add_argument("--retry-after", type=float, default=15.0, help="Retry-After of its operation")
    parser.add_argument("--concurrency", type=int, default=50, help="MAX_CONCURRENT_RECONCILES")
    parser.add_argument("--log-level", default="warning", help="the operator's --log-level")
    parser.add_argument("--workdir", help="keep logs here instead of a temporary directory")
    args, _ = parser.parse_known_args()  # nox -s bench passes every script the same arguments
    with bo._workdir(args.workdir) as workdir:
        return run(args, workdir)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
