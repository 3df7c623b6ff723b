"""Benchmark of the operator: ResourceGroups to Ready, requests per object, RSS, and a bare-kopf ceiling.

    python tests/bench/bench_operator.py [--n 200] [--concurrency 50] [--skip-baseline]

Everything runs on 127.0.0.1 in separate processes: the Kubernetes API server (run by this file in
``--kube-worker`` mode: the sandbox server plus a middleware that counts requests, skipping this
script's own, which carry the ``aso-bench`` User-Agent), aso's conversion webhook (this file in
``--webhook-worker`` mode; every object is stored at ``v1api20200601storage``, so writes and reads
at ``v1api20200601`` go through it), the ARM emulator (``EmulatorProcess``;
ResourceGroup PUTs answer 201 at once), the operator (``python -m aso run``) and the baseline (this
file in ``--baseline-worker`` mode: a bare kopf operator whose only handler writes a Ready condition).

Phases:

1. *create, then start*: N ResourceGroups exist before the operator starts; time from operator
   process start to all N Ready.
2. *apply while running*: with the operator idle, create N more; time from the first create to
   all Ready.
3. *restart + no-drift sync*: restart the operator with ``AZURE_SYNC_PERIOD`` set; the resume round
   is counted on its own, then one full sync round over all 2N objects.
4. *bare-kopf baseline*: delete everything, create N fresh objects, start the baseline; the same
   protocol as phase 1. Our throughput is printed as a ratio of it.

Prints figures next to the issue's targets; asserts nothing about time. Exits non-zero only when
something broke (objects not Ready within a generous timeout, a process died).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GROUP, VERSION, PLURAL, KIND = "resources.azure.com", "v1api20200601", "resourcegroups", "ResourceGroup"
STORED = f"{VERSION}storage"  # what the server stores: reading it needs no conversion webhook
NAMESPACE = "default"
BENCH_UA = "aso-bench"
COLLECTION = f"/apis/{GROUP}/{VERSION}/namespaces/{NAMESPACE}/{PLURAL}"
STORED_COLLECTION = f"/apis/{GROUP}/{STORED}/namespaces/{NAMESPACE}/{PLURAL}"
ALL_OBJECTS = f"/apis/{GROUP}/{STORED}/{PLURAL}"
RATE = "100000"  # ASO_ARM_RATE_LIMIT and ASO_ARM_RATE_BURST: the limiter is not what is measured

TARGET_RATIO = 0.3
TARGET_ARM_PER_CREATE = 2.0
TARGET_SYNC_PUTS = 0.0
TARGET_RSS_MB = 150.0
TARGET_RSS_OBJECTS = 10_000
TARGET_RESTART_RSS_MB = 200.0  # after a restart over 2 x TARGET_RSS_OBJECTS objects


# -- Kubernetes API server with request counts (own process) ------------------------------------


def _classify(method: str, path: str, watch: bool) -> str:
    """``verb resource[/subresource]`` of a Kubernetes API request, e.g. ``PATCH resourcegroups/status``."""
    segs = [s for s in path.split("/") if s]
    if segs[:1] == ["api"]:
        rest = segs[2:]
    elif segs[:1] == ["apis"]:
        rest = segs[3:]
    else:
        return f"{method} {path}"
    if not rest:
        return "discovery"
    if rest[0] == "namespaces" and len(rest) >= 3:
        rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = f"/{rest[2]}" if len(rest) > 2 else ""
    verb = method
    if method == "GET":
        verb = "GET" if name else ("WATCH" if watch else "LIST")
    return f"{verb} {resource}{sub}"


def kube_worker(crds: str, kubeconfig: str) -> None:
    """Run the sandbox Kubernetes API server with a counting middleware until SIGTERM."""
    import logging

    from aiohttp import web

    import aso.sandbox.kube.server as srv
    from aso.common import wait_for_stop

    logging.basicConfig(level="WARNING")
    counts: dict[str, int] = defaultdict(int)
    original = srv.build_app

    @web.middleware
    async def counting(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/_bench") and not request.headers.get("User-Agent", "").startswith(
            BENCH_UA
        ):
            watch = request.query.get("watch", "").lower() in ("true", "1")
            counts[_classify(request.method, request.path, watch)] += 1
        response: web.StreamResponse = await handler(request)
        return response

    async def get_counts(_: web.Request) -> web.Response:
        return web.json_response(dict(counts))

    async def reset_counts(_: web.Request) -> web.Response:
        counts.clear()
        return web.json_response({})

    def build_app(handlers: Any) -> web.Application:
        app: web.Application = original(handlers)
        app.middlewares.append(counting)
        app.router.add_get("/_bench/counts", get_counts)
        app.router.add_delete("/_bench/counts", reset_counts)
        return app

    srv.build_app = build_app  # KubeApiServer.start looks it up at call time

    async def serve() -> None:
        server = srv.KubeApiServer(host="127.0.0.1", port=0, crds=[Path(crds)])
        await server.start()
        server.write_kubeconfig(kubeconfig)
        print(f"listening on {server.url}", file=sys.stderr, flush=True)
        try:
            await wait_for_stop()
        finally:
            await server.stop()

    asyncio.run(serve())


# -- bare kopf baseline (own process) --------------------------------------------------------------


def baseline_worker(kubeconfig: str) -> None:
    """A kopf operator whose only handler (create/resume of ResourceGroups) writes a Ready condition."""
    import logging

    import kopf
    import yaml

    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = yaml.safe_load(Path(kubeconfig).read_text())
    context_name = config["current-context"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    registry = kopf.OperatorRegistry()

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        prefix = "bench.aso.dev"
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=prefix)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=prefix, key="last-handled-configuration"
        )
        settings.posting.enabled = False
        settings.peering.standalone = True
        settings.watching.server_timeout = 300
        settings.watching.chunk_size = 500  # as the operator lists: pages, not one response

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        token = user.get("token")
        return kopf.ConnectionInfo(
            server=cluster["server"],
            token=token,
            scheme="Bearer" if token else None,
            default_namespace=context.get("namespace", NAMESPACE),
        )

    async def ready(patch: kopf.Patch, **_: Any) -> None:
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch.status["conditions"] = [
            {"type": "Ready", "status": "True", "reason": "Succeeded", "lastTransitionTime": now}
        ]

    # The stored version, as the operator watches it: the same objects with no conversion on the way.
    kopf.on.resume(GROUP, STORED, PLURAL, registry=registry, id="ready-resume")(ready)
    kopf.on.create(GROUP, STORED, PLURAL, registry=registry, id="ready-create")(ready)
    asyncio.run(kopf.operator(registry=registry, clusterwide=True, standalone=True))


# -- the bench's own clients -----------------------------------------------------------------------


def _http(method: str, url: str, body: Any = None, timeout: float = 60.0) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"User-Agent": BENCH_UA, "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _rg(name: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"location": "westeurope", "tags": {"bench": "aso"}},
    }


async def _bulk(url: str, names: list[str], action: str, concurrency: int = 16) -> None:
    """``create`` the named ResourceGroups, or ``purge`` them (drop finalizers, then delete)."""
    import aiohttp

    queue: asyncio.Queue[str] = asyncio.Queue()
    for name in names:
        queue.put_nowait(name)
    headers = {"User-Agent": BENCH_UA}
    merge = {**headers, "Content-Type": "application/merge-patch+json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            name = queue.get_nowait()
            if action == "create":
                async with session.post(url + COLLECTION, json=_rg(name), headers=headers) as resp:
                    if resp.status != 201:
                        raise RuntimeError(f"create {name}: {resp.status} {await resp.text()}")
                continue
            item = f"{url}{STORED_COLLECTION}/{name}"
            patch = json.dumps({"metadata": {"finalizers": None}})
            async with session.patch(item, data=patch, headers=merge) as resp:
                if resp.status not in (200, 404):
                    raise RuntimeError(f"patch {name}: {resp.status} {await resp.text()}")
            async with session.delete(item, headers=headers) as resp:
                if resp.status not in (200, 202, 404):
                    raise RuntimeError(f"delete {name}: {resp.status} {await resp.text()}")

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))


def _list(url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _http("GET", url + ALL_OBJECTS)["items"]
    return items


def _is_ready(obj: dict[str, Any]) -> bool:
    from aso.operator.conditions import find_ready

    return (find_ready(obj.get("status")) or {}).get("status") == "True"


def wait_all_ready(url: str, prefix: str, n: int, timeout: float, alive: Callable[[], None]) -> float:
    """Poll (one LIST per round, at least 0.2 s apart) until ``n`` objects named ``prefix*`` are Ready.

    Returns the monotonic time at which the first poll saw a Ready object.
    """
    deadline = time.monotonic() + timeout
    first: float | None = None
    while True:
        started = time.monotonic()
        items = _list(url)
        ready = sum(1 for o in items if o["metadata"]["name"].startswith(prefix) and _is_ready(o))
        if ready and first is None:
            first = time.monotonic()
        if ready >= n:
            assert first is not None
            return first
        alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {ready} of {n} {prefix}* objects Ready after {timeout:.0f}s")
        # Never spend more than a third of the server's time on our own listing.
        time.sleep(max(0.2, 2 * (time.monotonic() - started)))


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for_url(child: Child, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        child.check()
        match = re.search(r"listening on (https?://\S+)", child.log_path.read_text(errors="replace"))
        if match:
            return match.group(1)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{child.name} did not start")
        time.sleep(0.05)


# -- conversion webhook (own process) -----------------------------------------------------------


@dataclass
class Webhook:
    """TLS files, port and URL of aso's conversion webhook, served by this file in
    ``--webhook-worker`` mode for the whole run (as a Deployment of its own would), so that no
    write or read at a served version depends on whether the operator runs."""

    workdir: Path
    port: int = 0
    cert: Path = field(init=False)
    key: Path = field(init=False)
    ca_pem: bytes = field(init=False)

    def __post_init__(self) -> None:
        from aso.common import free_port
        from aso.sandbox.runner import webhook_tls

        self.cert, self.key, self.ca_pem = webhook_tls(self.workdir)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/convert"

    def crds(self) -> Path:
        """The committed CRDs with their webhook pointed here, in a folder of the workdir."""
        import yaml

        from aso.sandbox.runner import point_webhook

        folder = self.workdir / "crds"
        folder.mkdir(exist_ok=True)
        for path in sorted((ROOT / "crds").glob("*.yaml")):
            crd = point_webhook(yaml.safe_load(path.read_text(encoding="utf-8")), self.url, self.ca_pem)
            (folder / path.name).write_text(yaml.safe_dump(crd), encoding="utf-8")
        return folder

    def args(self) -> list[str]:
        return [
            "--webhook-worker",
            "--port",
            str(self.port),
            "--cert",
            str(self.cert),
            "--key",
            str(self.key),
        ]


def webhook_worker(port: int, cert: str, key: str) -> None:
    """Serve aso's conversion webhook on 127.0.0.1:``port`` until SIGTERM."""
    import ssl

    from aiohttp import web

    from aso.common import wait_for_stop
    from aso.conversion import conversion_app
    from aso.host import load_registry

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def serve() -> None:
        runner = web.AppRunner(conversion_app(load_registry()), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
        print(f"listening on https://127.0.0.1:{port}", file=sys.stderr, flush=True)
        try:
            await wait_for_stop()
        finally:
            await runner.cleanup()

    asyncio.run(serve())


# -- processes ------------------------------------------------------------------------------------


@dataclass
class Child:
    """A subprocess with its log file; ``stop()`` is safe to call twice."""

    name: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self, args: list[str], env: dict[str, str]) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def check(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")

    def stop(self) -> None:
        from aso.common import stop_process

        if self.proc is not None:
            stop_process(self.proc)


@dataclass
class Bench:
    args: argparse.Namespace
    workdir: Path
    kube_url: str = ""
    kubeconfig: Path = field(init=False)
    arm: Any = None  # ArmEmulatorHandle
    metrics_port: int = 0
    webhook: Webhook = field(init=False)
    children: list[Child] = field(default_factory=list)
    watched: dict[str, int] = field(default_factory=dict)  # name -> pid whose CPU time is reported
    _cpu_start: dict[str, tuple[int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kubeconfig = self.workdir / "kubeconfig"
        self.webhook = Webhook(self.workdir)

    def stop(self, emulator: Any) -> None:
        """Stop every child process (last started first), then the ARM emulator (if it started)."""
        for child in reversed(self.children):
            child.stop()
        if emulator is not None:
            emulator.stop()

    # kube counts
    def kube_counts(self) -> dict[str, int]:
        counts: dict[str, int] = _http("GET", self.kube_url + "/_bench/counts")
        return counts

    def reset_counts(self) -> None:
        _http("DELETE", self.kube_url + "/_bench/counts")
        self.arm.control.reset_counts()
        self._cpu_start = {name: (pid, _cpu_seconds(pid)) for name, pid in self.watched.items()}
        self._cpu_start["bench"] = (os.getpid(), time.process_time())

    def cpu(self) -> dict[str, float]:
        """CPU seconds per process since ``reset_counts`` (a process started since: all of its time)."""
        out: dict[str, float] = {}
        for name, pid in self.watched.items():
            before_pid, before = self._cpu_start.get(name, (0, 0.0))
            out[name] = _cpu_seconds(pid) - (before if before_pid == pid else 0.0)
        out["bench"] = time.process_time() - self._cpu_start.get("bench", (0, 0.0))[1]
        return out

    def arm_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = self.arm.control.counts().by_method
        return counts

    def operator_env(self, sync_period: str) -> dict[str, str]:
        from aso.common import free_port

        self.metrics_port = free_port()
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ASO_"))},
            **self.arm.env(),
            "KUBECONFIG": str(self.kubeconfig),
            "ASO_METRICS_ADDRESS": f"127.0.0.1:{self.metrics_port}",
            "AZURE_SYNC_PERIOD": sync_period,
            "MAX_CONCURRENT_RECONCILES": str(self.args.concurrency),
            "ASO_ARM_RATE_LIMIT": RATE,
            "ASO_ARM_RATE_BURST": RATE,
        }

    def start_operator(self, sync_period: str, label: str) -> Child:
        child = Child(f"operator ({label})", self.workdir / f"operator-{label}.log")
        self.children.append(child)
        child.start(
            [sys.executable, "-m", "aso", "--log-level", self.args.log_level, "run"],
            self.operator_env(sync_period),
        )
        self.watched["operator"] = child.pid
        return child

    def reconciles(self) -> float:
        """``aso_reconciles_total`` (all kinds, result success) from the operator's /metrics."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
        except OSError:
            return 0.0
        total = 0.0
        for line in text.splitlines():
            if line.startswith("aso_reconciles_total{") and 'result="success"' in line:
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_reconciles(self, target: float, timeout: float, child: Child) -> None:
        deadline = time.monotonic() + timeout
        while self.reconciles() < target:
            child.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{child.name}: {self.reconciles():.0f} of {target:.0f} reconciles")
            time.sleep(0.2)

    def create(self, names: list[str]) -> None:
        asyncio.run(_bulk(self.kube_url, names, "create"))

    def purge(self, names: list[str]) -> None:
        asyncio.run(_bulk(self.kube_url, names, "purge"))


# -- figures ----------------------------------------------------------------------------------


def _is_poll(resource_type: str) -> bool:
    return "operation" in resource_type.lower()


@dataclass
class Figures:
    label: str
    n: int
    seconds: float | None = None
    first: float | None = None  # seconds from start to the first Ready object seen
    what: str = "all Ready"
    unit: str = "objects"
    arm: dict[str, dict[str, int]] = field(default_factory=dict)
    kube: dict[str, int] = field(default_factory=dict)
    rss_mb: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    objects_held: int = 0

    @property
    def rate(self) -> float | None:
        return self.n / self.seconds if self.seconds else None

    @property
    def steady_rate(self) -> float | None:
        """Objects per second after the first one was Ready (start-up excluded; poll-granular)."""
        if self.seconds is None or self.first is None or self.seconds - self.first < 0.2:
            return None
        return (self.n - 1) / (self.seconds - self.first)

    def arm_by_method(self, polls: bool = False) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for method, types in self.arm.items():
            for resource_type, count in types.items():
                if _is_poll(resource_type) == polls:
                    out[method] += count / self.n
        return dict(sorted(out.items()))

    @property
    def arm_per_object(self) -> float:
        return sum(self.arm_by_method().values())

    @property
    def kube_per_object(self) -> float:
        return sum(self.kube.values()) / self.n

    def print(self) -> None:
        print(f"  [{self.label}] {self.n} {self.unit}")
        if self.seconds is not None:
            print(f"    time to {self.what}: {self.seconds:.2f} s  ({self.rate:.1f} {self.unit}/s)")
        if self.first is not None:
            steady = f"{self.steady_rate:.1f} objects/s" if self.steady_rate else "n/a"
            print(f"    first Ready seen after {self.first:.2f} s; after that {steady}")
        if self.arm or self.label != "baseline":
            by_method = " ".join(f"{m} {v:.2f}" for m, v in self.arm_by_method().items()) or "none"
            polls = " ".join(f"{m} {v:.2f}" for m, v in self.arm_by_method(polls=True).items()) or "0"
            print(
                f"    ARM requests per {self.unit[:-1]}: {self.arm_per_object:.2f} ({by_method}); "
                f"operation polls: {polls}"
            )
        top = sorted(self.kube.items(), key=lambda kv: -kv[1])
        detail = ", ".join(f"{k} {v / self.n:.2f}" for k, v in top if v / self.n >= 0.005)
        print(f"    Kubernetes requests per {self.unit[:-1]}: {self.kube_per_object:.2f} ({detail})")
        if self.cpu:
            shares = ", ".join(f"{k} {v:.1f}" for k, v in self.cpu.items())
            print(f"    CPU seconds: {shares}")
        if self.rss_mb is not None:
            print(f"    peak RSS: {self.rss_mb:.1f} MB with {self.objects_held} objects in the cluster")


def _ok(passed: bool) -> str:
    return "ok" if passed else "MISSED"


# -- phases -----------------------------------------------------------------------------------


def _baseline(
    bench: Bench,
    workdir: Path,
    n: int,
    timeout: float,
    earlier: list[str],
    results: dict[str, Figures],
) -> int:
    """The bare-kopf ceiling: the objects of the earlier phases purged, N fresh ones, the baseline."""
    bench.purge(earlier)
    deadline = time.monotonic() + timeout
    while _list(bench.kube_url):
        if time.monotonic() > deadline:
            raise TimeoutError("objects left after the purge")
        time.sleep(0.2)
    names_c = [f"c-{i:05d}" for i in range(n)]
    bench.create(names_c)
    bench.reset_counts()
    baseline = Child("baseline kopf", workdir / "baseline.log")
    bench.children.append(baseline)
    start = time.monotonic()
    baseline.start(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--baseline-worker",
            "--kubeconfig",
            str(bench.kubeconfig),
        ],
        dict(os.environ),
    )
    bench.watched["baseline"] = baseline.pid
    first = wait_all_ready(bench.kube_url, "c-", n, timeout, baseline.check)
    figures = Figures("baseline", n, seconds=time.monotonic() - start, first=first - start)
    time.sleep(1.0)
    figures.kube, figures.cpu = bench.kube_counts(), bench.cpu()
    figures.rss_mb, figures.objects_held = _peak_rss_mb(baseline.pid), n
    figures.print()
    results["baseline"] = figures
    baseline.stop()
    return 0


def run(args: argparse.Namespace, workdir: Path) -> int:
    from aso.testing.arm import EmulatorProcess

    n = args.n
    bench = Bench(args, workdir)
    timeout = max(120.0, n * 0.5)
    kube = Child("kube API server", workdir / "kube.log")
    bench.children.append(kube)
    emulator: EmulatorProcess | None = None
    results: dict[str, Figures] = {}
    try:
        kube.start(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--kube-worker",
                "--crds",
                str(bench.webhook.crds()),
                "--kubeconfig",
                str(bench.kubeconfig),
            ],
            dict(os.environ),
        )
        bench.kube_url = _wait_for_url(kube, 60.0)
        webhook = Child("conversion webhook", workdir / "webhook.log")
        bench.children.append(webhook)
        webhook.start(
            [sys.executable, str(Path(__file__).resolve()), *bench.webhook.args()], dict(os.environ)
        )
        _wait_for_url(webhook, 60.0)
        bench.watched["webhook"] = webhook.pid
        bench.watched["kube"] = kube.pid
        (workdir / "arm").mkdir()
        emulator = EmulatorProcess(workdir / "arm")
        with _stdio_to(workdir / "arm.log"):  # the emulator inherits stdout/stderr; keep them quiet
            bench.arm = emulator.start()
        assert emulator.proc is not None
        bench.watched["arm"] = emulator.proc.pid
        namespaces = [
            ns["metadata"]["name"] for ns in _http("GET", bench.kube_url + "/api/v1/namespaces")["items"]
        ]
        if NAMESPACE not in namespaces:
            _http("POST", bench.kube_url + "/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
        sync_seconds = args.sync_period or max(3.0, 2 * n / 100)
        print(
            f"Operator benchmark: N={n}, MAX_CONCURRENT_RECONCILES={args.concurrency}, "
            f"ASO_ARM_RATE_LIMIT={RATE}, ASO_ARM_RATE_BURST={RATE}, log level {args.log_level}, "
            f"sync period {sync_seconds:g}s, {os.cpu_count()} CPUs; "
            f"kube {bench.kube_url}, ARM {bench.arm.endpoint}",
            flush=True,
        )

        names_a = [f"a-{i:05d}" for i in range(n)]
        names_b = [f"b-{i:05d}" for i in range(n)]
        if args.baseline_only:
            return _baseline(bench, workdir, n, timeout, names_a + names_b, results)

        # 1. create, then start
        bench.create(names_a)
        bench.reset_counts()
        start = time.monotonic()
        operator = bench.start_operator("never", "create")
        first = wait_all_ready(bench.kube_url, "a-", n, timeout, operator.check)
        figures = Figures("create, then start", n, seconds=time.monotonic() - start, first=first - start)
        time.sleep(1.0)  # trailing requests (events) belong to this phase
        figures.arm, figures.kube, figures.cpu = bench.arm_counts(), bench.kube_counts(), bench.cpu()
        figures.rss_mb, figures.objects_held = _peak_rss_mb(operator.pid), n
        figures.print()
        results["create"] = figures

        # 2. apply while running
        bench.reset_counts()
        start = time.monotonic()
        bench.create(names_b)
        first = wait_all_ready(bench.kube_url, "b-", n, timeout, operator.check)
        figures = Figures("apply while running", n, seconds=time.monotonic() - start, first=first - start)
        time.sleep(1.0)
        figures.arm, figures.kube, figures.cpu = bench.arm_counts(), bench.kube_counts(), bench.cpu()
        figures.rss_mb, figures.objects_held = _peak_rss_mb(operator.pid), 2 * n
        figures.print()
        results["apply"] = figures
        operator.stop()
        bench.watched.pop("operator", None)

        # 3. restart with a sync period: the resume round, then one no-drift sync round. The figures
        #    are per reconcile (the metric's count): a slow round overlaps the next one's first syncs.
        bench.reset_counts()
        start = time.monotonic()
        operator = bench.start_operator(f"{sync_seconds:g}s", "sync")
        bench.wait_reconciles(2 * n, timeout, operator)
        elapsed = time.monotonic() - start
        figures = Figures("restart (resume round)", 2 * n, seconds=elapsed, what="all resumed")
        figures.arm, figures.kube, figures.cpu = bench.arm_counts(), bench.kube_counts(), bench.cpu()
        figures.n = int(bench.reconciles())
        figures.unit = "reconciles"
        figures.print()
        results["resume"] = figures
        before = bench.reconciles()
        bench.reset_counts()
        bench.wait_reconciles(before + 2 * n, timeout + 3 * sync_seconds, operator)
        figures = Figures("no-drift sync round", 2 * n, unit="reconciles")
        figures.arm, figures.kube, figures.cpu = bench.arm_counts(), bench.kube_counts(), bench.cpu()
        figures.n = int(bench.reconciles() - before)
        figures.rss_mb, figures.objects_held = _peak_rss_mb(operator.pid), 2 * n
        figures.print()
        results["sync"] = figures
        operator.stop()
        bench.watched.pop("operator", None)

        # 4. the bare-kopf ceiling
        if not args.skip_baseline:
            _baseline(bench, workdir, n, timeout, names_a + names_b, results)
    except (TimeoutError, RuntimeError) as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        for child in bench.children:
            if child.log_path.exists():
                print(f"--- {child.name} log tail ---", file=sys.stderr)
                print(child.log_path.read_text(errors="replace")[-2000:], file=sys.stderr)
        return 1
    finally:
        bench.stop(emulator)
    _summary(n, results)
    return 0


def _summary(n: int, results: dict[str, Figures]) -> None:
    create, apply, sync = results["create"], results["apply"], results["sync"]
    baseline = results.get("baseline")
    rows: list[tuple[str, str, str, str]] = []
    for figures in (create, apply, baseline):
        if figures is None:
            continue
        steady = f"{figures.steady_rate:.1f}" if figures.steady_rate else "n/a"
        rows.append(
            (f"{figures.label}: objects/s (after first Ready)", f"{figures.rate:.1f} ({steady})", "", "")
        )
    if baseline is not None and baseline.rate:
        ratio = (create.rate or 0.0) / baseline.rate
        rows.append(
            (
                "ratio to bare kopf (same protocol)",
                f"{ratio:.2f}",
                f">= {TARGET_RATIO}",
                _ok(ratio >= TARGET_RATIO),
            )
        )
        if baseline.steady_rate:
            for figures in (create, apply):
                if figures.steady_rate:
                    rows.append(
                        (
                            f"{figures.label}: ratio to bare kopf after first Ready",
                            f"{figures.steady_rate / baseline.steady_rate:.2f}",
                            "",
                            "",
                        )
                    )
    for figures in (create, apply):
        value = figures.arm_per_object
        rows.append(
            (
                f"{figures.label}: ARM requests/object (no polls)",
                f"{value:.2f}",
                f"<= {TARGET_ARM_PER_CREATE:g}",
                _ok(value <= TARGET_ARM_PER_CREATE),
            )
        )
        rows.append(
            (f"{figures.label}: Kubernetes requests/object", f"{figures.kube_per_object:.2f}", "", "")
        )
    puts = sync.arm_by_method().get("PUT", 0.0)
    rows.append(
        ("no-drift sync: ARM PUTs per object sync", f"{puts:.2f}", f"= {TARGET_SYNC_PUTS:g}", _ok(puts == 0))
    )
    rows.append(("no-drift sync: ARM requests per object sync", f"{sync.arm_per_object:.2f}", "", ""))
    rows.append(("no-drift sync: Kubernetes requests per object sync", f"{sync.kube_per_object:.2f}", "", ""))
    sized = n >= TARGET_RSS_OBJECTS
    note = "" if sized else f" (at {TARGET_RSS_OBJECTS}: --n {TARGET_RSS_OBJECTS})"
    rss = create.rss_mb or 0.0
    rows.append(
        (
            f"operator peak RSS MB at {n} objects",
            f"{rss:.1f}",
            f"<= {TARGET_RSS_MB:g}{note}",
            _ok(rss <= TARGET_RSS_MB) if sized else "",
        )
    )
    rows.append((f"operator peak RSS MB at {2 * n} objects (running)", f"{apply.rss_mb or 0.0:.1f}", "", ""))
    restart_note = "" if sized else f" (at {2 * TARGET_RSS_OBJECTS})"
    rows.append(
        (
            f"operator peak RSS MB after a restart over {2 * n} objects",
            f"{sync.rss_mb or 0.0:.1f}",
            f"< {TARGET_RESTART_RSS_MB:g}{restart_note}",
            _ok((sync.rss_mb or 0.0) < TARGET_RESTART_RSS_MB) if sized else "",
        )
    )
    resume = results.get("resume")
    if resume is not None and resume.rate:
        rows.append((f"restart: resume reconciles/s over {2 * n} objects", f"{resume.rate:.1f}", "", ""))
    if baseline is not None and baseline.rss_mb is not None:
        rows.append((f"bare kopf peak RSS MB at {n} objects", f"{baseline.rss_mb:.1f}", "", ""))
    width = max(len(r[0]) for r in rows)
    print(f"\nSummary (N={n})")
    print(f"  {'figure':<{width}}  {'value':>14}  {'target':<32}")
    for name, shown, target, verdict in rows:
        print(f"  {name:<{width}}  {shown:>14}  {target:<32}  {verdict}".rstrip())


@contextlib.contextmanager
def _stdio_to(path: Path) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``path`` while a child process is started."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


@contextlib.contextmanager
def _workdir(keep: str | None) -> Iterator[Path]:
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="aso-bench-") as tmp:
        yield Path(tmp)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="ResourceGroups per phase")
    parser.add_argument("--concurrency", type=int, default=50, help="MAX_CONCURRENT_RECONCILES")
    parser.add_argument("--skip-baseline", action="store_true", help="do not run the bare-kopf baseline")
    parser.add_argument("--baseline-only", action="store_true", help="run only the bare-kopf baseline")
    parser.add_argument(
        "--sync-period",
        type=float,
        default=None,
        help="AZURE_SYNC_PERIOD seconds for the sync phase (default max(3, 2N/100))",
    )
    parser.add_argument("--log-level", default="warning", help="the operator's --log-level")
    parser.add_argument("--workdir", help="keep logs here instead of a temporary directory")
    parser.add_argument("--kube-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--webhook-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--crds", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cert", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--kubeconfig", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.kube_worker:
        kube_worker(args.crds, args.kubeconfig)
        return 0
    if args.webhook_worker:
        webhook_worker(args.port, args.cert, args.key)
        return 0
    if args.baseline_worker:
        baseline_worker(args.kubeconfig)
        return 0
    with _workdir(args.workdir) as workdir:
        return run(args, workdir)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
