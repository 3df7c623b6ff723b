"""The kopf layer: registers the generic handlers for every kind and runs the operator.

Handlers have stable, explicit ids (kopf persists them on objects). kopf keeps its progress and
diff-base in annotations under ``aso.dev/`` (``status.kopf`` would be pruned by structural schemas);
the finalizer is ASO's, so a cluster can move from ASO to aso in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import logging
import random
import socket
import ssl
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import kopf
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from aso.common import LoopThread, stop_on_signals
from aso.conversion import conversion_app, original_version, written_body
from aso.errors import AsoError, RetryableError
from aso.host import Registry
from aso.kinds import ResourceKind
from aso.operator import metrics
from aso.operator.claims import ClaimIndex
from aso.operator.conditions import find_ready
from aso.operator.context import ObjectContext
from aso.operator.gate import BACKGROUND, LoopLag, WorkGate
from aso.operator.kubeapi import ClusterConnection, KubeClient, NotFound, load_connection, resource_path
from aso.operator.leader import LeaderElector, LeadershipLost, LeaseConfig
from aso.operator.operations import OPERATION_ANNOTATION, OperationRunning
from aso.operator.reconciler import (
    FINALIZER,
    ORIGIN_ANNOTATION,
    RESOURCE_ID_ANNOTATION,
    SECRETS_ANNOTATION,
    Reconciler,
    holds_finalizer,
)
from aso.operator.settings import Settings
from aso.operator.sync import ObjectLocks, RecentlyDone, SyncEntry, SyncSchedule, run_sync_loop
from aso.operator.webhook_tls import WebhookCertificates

__all__ = ["Operator", "run"]

PREFIX = "aso.dev"
LIST_CHUNK_SIZE = 500  # objects per page of kopf's initial list (kubectl's default page)
log = logging.getLogger("aso.operator")


class _ProgressIsNotAnError(logging.Filter):
    """kopf logs every retry at ERROR; a handler coming back to poll a running operation
    (``Reconciling``/``Deleting``, severity Info) is progress, logged at DEBUG."""

    MARKERS = (" failed temporarily: Reconciling: ", " failed temporarily: Deleting: ")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and any(m in record.getMessage() for m in self.MARKERS):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def backoff(retry: int, hint: float | None, cap: float = 300.0) -> float:
    """Seconds before retry number ``retry``: the error's hint (ARM's Retry-After, say) when given,
    else exponential with jitter; never more than ``cap`` (ASO_RETRY_MAX_DELAY)."""
    if hint is not None:
        return min(cap, max(0.5, hint))
    return min(cap, 2.0 ** min(retry, 9)) * random.uniform(0.8, 1.2)


class Operator:
    """One running operator: kopf, the reconciler, the metrics/health endpoint, the webhook."""

    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry
        self.connection: ClusterConnection = load_connection(settings.kubeconfig)
        self.kube = KubeClient(self.connection)
        self.reconciler = Reconciler(settings, registry, self.kube)
        #: Each kind's pace, learned as it runs: True once a create or update of it was seen running
        #: on in Azure (a change to one starts something long, so it waits behind quick work),
        #: False once a handler call of it ended otherwise; a kind not handled yet is not here.
        self.runs_long: dict[str, bool] = {}
        #: Bounds the handlers working at once (MAX_CONCURRENT_RECONCILES); none of them sleeps.
        #: Work that can finish now goes first, slow work while there is time to spare (gate.py).
        self.lag = LoopLag()
        self.gate = WorkGate(settings.max_concurrent_reconciles, self.runs_long.get, busy=self.lag.busy)
        self.kopf_registry = kopf.OperatorRegistry()
        logging.getLogger("kopf.objects").addFilter(_ProgressIsNotAnError())
        self.ready = asyncio.Event()
        #: Waiting for the Lease: healthy, serving the webhook, reconciling nothing.
        self.standby = False
        self._states: dict[str, tuple[str, str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Which objects claim which ARM id, fed by the watch (one Azure resource, one object).
        self.claims = ClaimIndex()
        #: When each object is next synced (AZURE_SYNC_PERIOD) or polled (a running create or
        #: update), fed by the watch and by the handlers.
        self.schedule = SyncSchedule(settings.sync_period, settings.sync_jitter)
        self.locks = ObjectLocks()
        #: Objects reconciled to the end lately: a create cause for one at the same generation is
        #: kopf acting on an event older than its own patch (see RecentlyDone), not a new object.
        self.recently_done = RecentlyDone()
        self._register()

    # -- kopf wiring ----------------------------------------------------------------------------

    def _register(self) -> None:
        reg = self.kopf_registry

        @kopf.on.startup(registry=reg)
        def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
            settings.persistence.finalizer = FINALIZER
            settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
            settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
                prefix=PREFIX,
                key="last-handled-configuration",
                # Our own records on the object are not the user's changes.
                ignored_fields=[
                    ("metadata", "annotations", annotation)
                    for annotation in (
                        RESOURCE_ID_ANNOTATION,
                        OPERATION_ANNOTATION,
                        ORIGIN_ANNOTATION,
                        SECRETS_ANNOTATION,
                    )
                ],
            )
            settings.posting.enabled = False  # events are ours: one per Ready transition
            settings.peering.standalone = True
            settings.watching.server_timeout = 300
            # The initial list in pages (the API server keeps them consistent), not one response
            # holding every object three times at once (bytes, text, parsed) on a restart.
            settings.watching.chunk_size = LIST_CHUNK_SIZE
            # No cap on kopf's per-object workers: an idle worker lingers for idle_timeout, so a cap
            # throttles throughput; MAX_CONCURRENT_RECONCILES bounds the work itself (the gate).
            settings.queueing.worker_limit = None
            if self.settings.label_selector:
                # A shard: the API server filters every list and watch of our kinds, so the
                # objects, the claims index and the handlers all stay inside it. The version is
                # named: kopf's selectors otherwise match only the preferred one, not the stored.
                for kind in self.registry.all_kinds():
                    key = (kind.group, kind.stored_version, kind.plural)
                    settings.watching.label_selectors[key] = self.settings.label_selector

        @kopf.on.login(registry=reg)
        def login(**_: Any) -> kopf.ConnectionInfo:
            c = self.connection
            return kopf.ConnectionInfo(
                server=c.server,
                ca_path=c.ca_path,
                insecure=c.insecure,
                token=c.token,
                scheme="Bearer" if c.token else None,
                certificate_path=c.cert_path,
                private_key_path=c.key_path,
                default_namespace=c.default_namespace,
            )

        for kind in self.registry.all_kinds():
            self._register_kind(kind)

    def _register_kind(self, kind: ResourceKind) -> None:
        reg = self.kopf_registry
        where: dict[str, Any] = {
            "group": kind.group,
            "version": kind.stored_version,  # what Kubernetes stores: no conversion on the watch
            "plural": kind.plural,
            "registry": reg,
        }

        # Every watch event of the kind feeds the claims (one Azure resource, one managing object)
        # and the sync schedule. A coroutine, so kopf runs it on the loop, where the handlers and
        # the sync use both (kopf runs a plain function in a thread pool: a thread hop per event,
        # and two threads at the index).
        async def on_event(body: kopf.Body, type: str | None, **_: Any) -> None:
            deleted = type == "DELETED"
            self.claims.observe(kind.kind, body, deleted=deleted)
            uid = str(body.metadata.uid)
            if deleted:
                self.schedule.forget(uid)
                self.recently_done.forget(uid)
            elif uid not in self.schedule:
                self.schedule.observe(_entry(kind, body))

        kopf.on.event(**where, id="claims")(on_event)

        async def on_change(body: kopf.Body, patch: kopf.Patch, logger: Any, retry: int, **_: Any) -> None:
            await self._handle(kind, body, patch, logger, retry, self.reconciler.reconcile)

        async def on_create(body: kopf.Body, patch: kopf.Patch, logger: Any, retry: int, **_: Any) -> None:
            await self._handle(kind, body, patch, logger, retry, self.reconciler.reconcile, created=True)

        async def on_delete(body: kopf.Body, patch: kopf.Patch, logger: Any, retry: int, **_: Any) -> None:
            await self._handle(kind, body, patch, logger, retry, self.reconciler.delete)
            self._forget(body)

        kopf.on.resume(**where, id="reconcile-resume")(on_change)
        kopf.on.create(**where, id="reconcile-create")(on_create)
        kopf.on.update(**where, id="reconcile-update")(on_change)
        # kopf adds its finalizer to an object that a delete handler matches, and removes it from
        # one that none matches. This one matches the objects holding the finalizer, which the
        # reconciler adds with the ARM id before the first write to Azure: kopf neither adds it
        # (a patch and a watch event per new object, before any handler could wait) nor removes it.
        kopf.on.delete(**where, id="delete", when=lambda body, **_: holds_finalizer(body.metadata))(on_delete)

    async def _handle(
        self,
        kind: ResourceKind,
        body: kopf.Body,
        patch: kopf.Patch,
        logger: Any,
        retry: int,
        action: Callable[[ObjectContext], Awaitable[Any]],
        created: bool = False,
    ) -> None:
        uid, generation = str(body.metadata.uid), body.metadata.get("generation")
        # The copies and the conversion are made once a slot is free: thousands of handlers may
        # wait here at a restart, and a waiting one holds nothing but kopf's body.
        async with self.locks.hold(uid):
            # A stale create (see RecentlyDone) is told apart under the object's lock, after the
            # call it repeats: it takes no slot of the gate to do nothing.
            if created and self.recently_done.covers(uid, generation):
                logger.debug("created and reconciled at generation %s already: a stale event", generation)
                return
            async with self.gate.slot(_gate_key(kind, body)):
                raw = _plain(body)
                before = find_ready(raw.get("status"))
                try:
                    poll = await self._act(kind, raw, patch, logger, retry, action)
                    if action == self.reconciler.reconcile:
                        # Done for kopf; the schedule comes back for the next poll or sync.
                        self.schedule.reset(_entry(kind, body), poll)
                        if poll is None:
                            self.recently_done.record(uid, generation)
                finally:
                    self._after(kind, raw, patch, before)

    async def _sync(self, entry: SyncEntry) -> None:
        """One object's periodic sync: read fresh, reconcile as a handler would, write the staged
        patch as kopf writes a handler's (the status to its subresource), and schedule the next."""
        kind = entry.kind
        path = _path(kind, entry.namespace, entry.name)
        async with self.locks.hold(entry.uid), self.gate.slot(BACKGROUND):
            try:
                raw = await self.kube.get(path)
            except Exception as exc:  # the API server is away: try again later
                log.warning("sync of %s/%s: cannot read it: %s", entry.namespace, entry.name, exc)
                self.schedule.reset(entry, self.settings.retry_max_delay)
                return
            if raw is None or (raw.get("metadata") or {}).get("uid") != entry.uid:
                return  # gone (the watch tells the schedule)
            if not _settled(raw):
                self.schedule.reset(entry)  # kopf is at work on it (retries, delete): its turn
                return
            patch: dict[str, Any] = {}
            before = find_ready(raw.get("status"))
            logger = logging.LoggerAdapter(log, {"object": f"{entry.namespace}/{entry.name}"})
            delay: float | None = None
            try:
                delay = await self._act(kind, raw, patch, logger, 0, self.reconciler.reconcile)
            except kopf.TemporaryError as exc:
                delay = exc.delay
            except kopf.PermanentError:
                pass  # the condition says it; the next period tries again, as after a spec change
            self.schedule.reset(entry, delay)
            try:
                await self._write(path, patch)
            except NotFound:
                return
            except Exception as exc:  # the next sync writes it again
                log.warning("sync of %s/%s: cannot write it: %s", entry.namespace, entry.name, exc)
            self._after(kind, raw, patch, before)

    async def _write(self, path: str, patch: Mapping[str, Any]) -> None:
        """The operator's one writer of an object outside kopf's patch (the ARM id before the first
        write to Azure, the periodic sync): as kopf sends a handler's patch, the status to the status
        subresource, the rest to the object."""
        rest = {key: value for key, value in patch.items() if key != "status"}
        if rest:
            await self.kube.merge_patch(path, rest)
        if patch.get("status"):
            await self.kube.merge_patch(f"{path}/status", {"status": patch["status"]})

    async def _act(
        self,
        kind: ResourceKind,
        raw: dict[str, Any],
        patch: dict[str, Any],
        logger: Any,
        retry: int,
        action: Callable[[ObjectContext], Awaitable[Any]],
    ) -> float | None:
        """Run ``action`` on the object; its errors become the Ready condition and kopf's retry.

        A create or update running in Azure returns the seconds until its next poll: it is not an
        error and not kopf's to retry (kopf's retry costs a patch, a touch and a watch event per
        poll); the schedule polls it. A running delete stays kopf's: its finalizer waits on it."""
        entry = _entry(kind, raw)
        ctx = ObjectContext(
            kind=kind,
            body=raw,
            patch=patch,
            log=logger,
            claimants=self.claims.lookup,
            written_version=original_version(kind, raw),
            written=written_body(kind, raw),
            write_now=functools.partial(self._write, _path(kind, entry.namespace, entry.name)),
        )
        result = "success"
        try:
            await action(ctx)
        except OperationRunning as exc:
            result = "retry"
            ctx.set_ready(ready=False, severity=exc.severity, reason=exc.reason, message=exc.message)
            poll = backoff(0, exc.delay, self.settings.retry_max_delay)
            if exc.method != "DELETE":
                self.runs_long[kind.kind] = True
                return poll
            raise kopf.TemporaryError(f"{exc.reason}: {exc.message}", delay=poll) from exc
        except AsoError as exc:
            result = "retry" if isinstance(exc, RetryableError) else "error"
            ctx.set_ready(ready=False, severity=exc.severity, reason=exc.reason, message=exc.message)
            if isinstance(exc, RetryableError):
                raise kopf.TemporaryError(
                    f"{exc.reason}: {exc.message}",
                    delay=backoff(retry, exc.delay, self.settings.retry_max_delay),
                ) from exc
            raise kopf.PermanentError(f"{exc.reason}: {exc.message}") from exc
        except Exception as exc:
            result = "error"
            logger.exception("unexpected failure while handling %s", kind.kind)
            ctx.set_ready(
                ready=False,
                severity="Warning",
                reason="InternalError",
                message=f"{type(exc).__name__}: {exc}",
            )
            raise kopf.TemporaryError(
                f"InternalError: {exc}", delay=backoff(retry, None, self.settings.retry_max_delay)
            ) from exc
        finally:
            metrics.RECONCILES.labels(kind.kind, result).inc()
            self.runs_long.setdefault(kind.kind, False)  # its pace is known now, whatever it was
        return None

    def _after(
        self,
        kind: ResourceKind,
        raw: Mapping[str, Any],
        patch: Mapping[str, Any],
        before: Mapping[str, Any] | None,
    ) -> None:
        conditions = ((patch.get("status") or {}).get("conditions")) or []
        after = next((c for c in conditions if c.get("type") == "Ready"), None)
        if after is None:
            return
        uid = str((raw.get("metadata") or {}).get("uid"))
        state = (kind.kind, str(after.get("status")))
        old = self._states.get(uid)
        if old != state:
            if old is not None:
                metrics.OBJECTS_READY.labels(*old).dec()
            metrics.OBJECTS_READY.labels(*state).inc()
            self._states[uid] = state
        if before is None or any(before.get(k) != after.get(k) for k in ("status", "reason", "severity")):
            task = asyncio.create_task(self._post_event(kind, raw, after))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _forget(self, body: kopf.Body) -> None:
        old = self._states.pop(str(body.metadata.get("uid")), None)
        if old is not None:
            metrics.OBJECTS_READY.labels(*old).dec()

    async def _post_event(
        self, kind: ResourceKind, raw: Mapping[str, Any], condition: Mapping[str, Any]
    ) -> None:
        meta = raw.get("metadata") or {}
        namespace = str(meta.get("namespace") or "default")
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ready = condition.get("status") == "True"
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta.get('name')}.", "namespace": namespace},
            "involvedObject": {
                "apiVersion": raw.get("apiVersion"),
                "kind": kind.kind,
                "name": meta.get("name"),
                "namespace": namespace,
                "uid": meta.get("uid"),
            },
            "type": "Normal" if ready or condition.get("severity") == "Info" else "Warning",
            "reason": condition.get("reason") or ("Ready" if ready else "NotReady"),
            "message": condition.get("message") or ("Ready" if ready else ""),
            "source": {"component": "aso"},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            await self.kube.request("POST", resource_path("", "v1", "events", namespace), event)
        except Exception as exc:  # an event that cannot be posted must never fail a reconcile
            log.debug("could not post event: %s", exc)

    # -- endpoints ------------------------------------------------------------------------------

    def _health_app(self) -> web.Application:
        async def handle_metrics(_: web.Request) -> web.Response:
            return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

        async def healthz(_: web.Request) -> web.Response:
            return web.Response(text="ok")

        async def readyz(_: web.Request) -> web.Response:
            # A standby is ready: it serves the conversion webhook, and a Deployment's rollout
            # must not wait for it to become leader.
            if self.standby:
                return web.Response(text="standby")
            return web.Response(
                text="ready" if self.ready.is_set() else "starting",
                status=200 if self.ready.is_set() else 503,
            )

        app = web.Application()
        app.router.add_get("/metrics", handle_metrics)
        app.router.add_get("/healthz", healthz)
        app.router.add_get("/readyz", readyz)
        return app

    async def _serve(
        self, app: web.Application, address: tuple[str, int], ssl_context: ssl.SSLContext | None
    ) -> web.AppRunner:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, address[0], address[1], ssl_context=ssl_context)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        bound = sockets[0].getsockname() if sockets else address
        log.info("serving %s on %s:%s", "TLS" if ssl_context else "HTTP", bound[0], bound[1])
        return runner

    def _endpoints(self, webhook_tls: ssl.SSLContext | None) -> LoopThread | None:
        """The metrics/health endpoint and the conversion webhook, served from a loop of their own:
        the API server waits on the webhook in every read and write of our kinds, and the kubelet
        on the probes, however busy reconciling keeps the operator's loop (measured: with 2,000
        objects starting at once, creates through the webhook took 8 times as long on one loop)."""
        served: list[tuple[web.Application, tuple[str, int], ssl.SSLContext | None]] = []
        if self.settings.metrics_address:
            served.append((self._health_app(), self.settings.metrics_address, None))
        if self.settings.webhook_address:
            served.append((conversion_app(self.registry), self.settings.webhook_address, webhook_tls))
        if not served:
            return None
        runners: list[web.AppRunner] = []

        async def setup() -> None:
            for app, address, context in served:
                runners.append(await self._serve(app, address, context))

        async def teardown() -> None:
            for runner in runners:
                await runner.cleanup()

        return LoopThread("aso-endpoints", setup, teardown)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        rotation: asyncio.Task[None] | None = None
        webhook_tls: ssl.SSLContext | None = None
        if self.settings.webhook_address:
            webhook_tls, rotation = await self._webhook_tls()
        endpoints = self._endpoints(webhook_tls)
        stop = stop or asyncio.Event()
        elector = self._elector()
        try:
            if endpoints is not None:
                await asyncio.to_thread(endpoints.start)
            if elector is not None:
                stop_on_signals(stop)  # a standby has no kopf to handle them; kopf installs its own
                self.standby = True
                acquired = await elector.acquire(stop)
                self.standby = False
                if not acquired:
                    return
            metrics.LEADER.set(1)
            await self._run_kopf(stop, elector)
        finally:
            if rotation is not None:
                rotation.cancel()
            metrics.LEADER.set(0)
            if elector is not None:
                await elector.release()  # only after kopf stopped: never two at work
            if endpoints is not None:
                await asyncio.to_thread(endpoints.stop)
            await self.reconciler.close()
            await self.kube.close()

    async def _webhook_tls(self) -> tuple[ssl.SSLContext, asyncio.Task[None] | None]:
        """The webhook's TLS context: from ASO_WEBHOOK_CERT/KEY (cert-manager mounts them), or
        issued and rotated by the operator itself (ASO_WEBHOOK_CERT_SECRET)."""
        s = self.settings
        if s.webhook_cert and s.webhook_key:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(s.webhook_cert, s.webhook_key)
            return ctx, None
        if not s.webhook_cert_secret:
            raise SystemExit(
                "ASO_WEBHOOK_ADDRESS needs ASO_WEBHOOK_CERT and ASO_WEBHOOK_KEY (PEM files) "
                "or ASO_WEBHOOK_CERT_SECRET (a certificate the operator issues and rotates)"
            )
        certs = WebhookCertificates(
            self.kube,
            namespace=s.webhook_cert_namespace or self.connection.default_namespace,
            secret=s.webhook_cert_secret,
            hosts=s.webhook_hosts,
            validity=s.webhook_cert_validity,
            crd_names=[f"{k.plural}.{k.group}" for k in self.registry.all_kinds()],
        )
        await certs.refresh()

        async def keep_current() -> None:
            while True:
                await asyncio.sleep(certs.check_interval)
                try:
                    await certs.refresh()
                except Exception as exc:  # the certificate still serves; try again next time
                    log.warning("webhook certificate refresh failed: %s", exc)

        return certs.context, asyncio.create_task(keep_current())

    def _elector(self) -> LeaderElector | None:
        s = self.settings
        if not s.leader_election:
            return None
        config = LeaseConfig(
            namespace=s.leader_election_namespace or self.connection.default_namespace,
            name=s.leader_election_id,
            identity=s.leader_election_identity or f"{socket.gethostname()}_{uuid.uuid4()}",
            lease_duration=s.lease_duration,
            renew_deadline=s.lease_renew_deadline,
            retry_period=s.lease_retry_period,
        )
        return LeaderElector(self.kube, config)

    async def _run_kopf(self, stop: asyncio.Event, elector: LeaderElector | None) -> None:
        """kopf until ``stop`` (or kopf's own signal handling); with an elector, also until the
        Lease is lost, when kopf is cancelled at once and :class:`LeadershipLost` raised."""
        ready_flag: asyncio.Event = asyncio.Event()

        async def mark_ready() -> None:
            await ready_flag.wait()
            self.ready.set()
            log.info("operator ready: %d kind(s)", len(self.registry.by_group_kind))

        watcher = asyncio.create_task(mark_ready())
        parallel = self.settings.max_concurrent_reconciles
        syncer = asyncio.create_task(run_sync_loop(self.schedule, self._sync, parallel, stop))
        meter = asyncio.create_task(self.lag.run(self.gate.poke))
        operator = asyncio.create_task(
            kopf.operator(
                registry=self.kopf_registry,
                clusterwide=not self.settings.namespaces,
                namespaces=self.settings.namespaces,
                standalone=True,
                ready_flag=ready_flag,
                stop_flag=stop,
            )
        )
        try:
            if elector is None:
                await operator
                return
            holder = asyncio.create_task(elector.hold())
            done, _ = await asyncio.wait({operator, holder}, return_when=asyncio.FIRST_COMPLETED)
            if holder in done:
                operator.cancel()  # another may be leader already: stop every handler now
                with contextlib.suppress(asyncio.CancelledError):
                    await operator
                holder.result()
            holder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holder
            operator.result()
        finally:
            watcher.cancel()
            meter.cancel()
            syncer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await syncer


#: kopf's handler ids: while kopf keeps progress under one of them, the object is kopf's (retries).
_HANDLER_IDS = ("reconcile-resume", "reconcile-create", "reconcile-update", "delete")


def _path(kind: ResourceKind, namespace: str, name: str) -> str:
    """Where the object is stored (its storage version)."""
    return resource_path(kind.group, kind.stored_version, kind.plural, namespace, name)


def _gate_key(kind: ResourceKind, body: kopf.Body) -> str:
    """A handler's queue at the gate: its kind's, or the background one when an operation of the
    object's runs in Azure (the call is a poll)."""
    return BACKGROUND if OPERATION_ANNOTATION in body.metadata.annotations else kind.kind


def _entry(kind: ResourceKind, body: Mapping[str, Any]) -> SyncEntry:
    meta = body.get("metadata") or {}
    return SyncEntry(
        kind, str(meta.get("namespace") or "default"), str(meta.get("name")), str(meta.get("uid"))
    )


def _settled(raw: Mapping[str, Any]) -> bool:
    """Not being deleted, no kopf handler pending (kopf's progress annotations are gone), and not
    in an error the user must fix (severity Error: tried again after a spec change, not by a sync)."""
    meta = raw.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return False
    annotations = meta.get("annotations") or {}
    if any(f"{PREFIX}/{handler}" in annotations for handler in _HANDLER_IDS):
        return False
    ready = find_ready(raw.get("status")) or {}
    return not (ready.get("status") == "False" and ready.get("severity") == "Error")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def run(settings: Settings, registry: Registry) -> None:
    """Run the operator until SIGINT/SIGTERM; exit 1 when leadership is lost, so the Deployment
    restarts it as a standby."""
    try:
        asyncio.run(Operator(settings, registry).run())
    except LeadershipLost as exc:
        log.error("leadership lost, exiting: %s", exc)
        raise SystemExit(1) from exc
