"""The two controllers every cluster runs that clients rely on: garbage collection and namespace cleanup.

- Garbage collector: when an owner disappears, dependents whose every owner is gone are deleted
  (background propagation); ``foregroundDeletion`` holds the owner until its dependents are gone;
  ``orphan`` strips the ownerReference from dependents and lets the owner go. Dependents created
  with owners that do not exist are collected too.
- Namespace controller: a terminating namespace has its content deleted (finalizers honoured) and
  disappears once it is empty.
- Event expiry: core Events older than ``event_ttl`` (one hour, the API server's default) are
  deleted, so a long-running sandbox does not grow without bound.

Both run as one background task woken by every change, so the request that triggered the work
returns first, as with the real controllers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from . import builtin
from .cluster import Cluster
from .model import ResourceType
from .store import Event, ObjectKey

log = logging.getLogger(__name__)


class Controllers:
    def __init__(self, cluster: Cluster, *, event_ttl: float = 3600.0) -> None:
        self._cluster = cluster
        self._event_ttl = event_ttl
        self._expiry: asyncio.Task[None] | None = None
        self._store = cluster.store
        self._wake = asyncio.Event()
        self._owners_gone: set[str] = set()
        self._check_owners: set[ObjectKey] = set()
        self._deleting: set[ObjectKey] = set()
        self._namespaces: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        cluster.on_change.append(self._changed)

    def start(self) -> None:
        # Anything left half-done by a previous run (persistent state) is picked up again.
        for ns_obj in self._store.iter(builtin.NAMESPACES.key):
            if ns_obj["metadata"].get("deletionTimestamp"):
                self._namespaces.add(ns_obj["metadata"]["name"])
        for uid, (key, ns, name) in list(self._store.by_uid.items()):
            obj = self._store.get(key, ns, name)
            if obj is None:
                continue
            meta = obj["metadata"]
            if meta.get("ownerReferences"):
                self._check_owners.add((key, ns, name))
            if meta.get("deletionTimestamp") and {"foregroundDeletion", "orphan"} & set(
                meta.get("finalizers") or []
            ):
                self._deleting.add((key, ns, name))
            del uid
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(), name="kube-controllers")
        self._expiry = loop.create_task(self._expire_events(), name="kube-event-expiry")
        self._wake.set()

    async def stop(self) -> None:
        for task in (self._task, self._expiry):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._expiry = None

    async def _expire_events(self) -> None:
        interval = min(60.0, max(self._event_ttl / 4, 0.05))
        while True:
            await asyncio.sleep(interval)
            self.expire_events()

    def expire_events(self) -> int:
        """Delete Events whose last change is older than the TTL; returns how many."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self._event_ttl)
        expired = 0
        for event in list(self._store.iter(builtin.EVENTS.key)):
            meta = event["metadata"]
            stamp = (
                event.get("lastTimestamp") or event.get("eventTime") or meta.get("creationTimestamp") or ""
            )
            try:
                when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            except ValueError:
                continue
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if when < cutoff:
                self._cluster.delete_now(builtin.EVENTS, meta.get("namespace", ""), meta["name"])
                expired += 1
        return expired

    def _changed(self, rt: ResourceType, event: Event) -> None:
        meta = event.obj["metadata"]
        where = (rt.key, meta.get("namespace", ""), meta["name"])
        if event.type == "DELETED":
            uid = meta.get("uid", "")
            if uid in self._store.dependents:
                self._owners_gone.add(uid)
            # A dependent went away: an owner in foreground deletion may now be free to go.
            for ref in meta.get("ownerReferences") or []:
                owner = self._store.by_uid.get(ref.get("uid", ""))
                if owner is not None:
                    self._deleting.add(owner)
            ns = meta.get("namespace")
            if ns and ns in self._namespaces:
                self._wake.set()
            self._deleting.discard(where)
        else:
            if meta.get("deletionTimestamp"):
                if rt.key == builtin.NAMESPACES.key:
                    self._namespaces.add(meta["name"])
                if {"foregroundDeletion", "orphan"} & set(meta.get("finalizers") or []):
                    self._deleting.add(where)
            if event.type == "ADDED" and meta.get("ownerReferences"):
                self._check_owners.add(where)
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                self.process()
            except Exception:
                log.exception("garbage collection pass failed")

    def process(self) -> None:
        """Run passes until nothing more changes (each pass may make more work)."""
        for _ in range(100):
            if not self._pass():
                return

    def _rt(self, key: tuple[str, str]) -> ResourceType | None:
        return self._cluster.types.get(key)

    def _orphaned(self, key: ObjectKey) -> bool:
        obj = self._store.get(*key)
        if obj is None:
            return False
        refs = obj["metadata"].get("ownerReferences") or []
        return bool(refs) and all(ref.get("uid") not in self._store.by_uid for ref in refs)

    def _pass(self) -> bool:
        worked = False
        candidates: set[ObjectKey] = set(self._check_owners)
        self._check_owners.clear()
        for uid in list(self._owners_gone):
            self._owners_gone.discard(uid)
            candidates.update(self._store.dependents.get(uid, ()))
        for key in candidates:
            if self._orphaned(key):
                rt = self._rt(key[0])
                if rt is not None:
                    self._cluster.delete_now(rt, key[1], key[2])
                    worked = True
        for key in list(self._deleting):
            self._deleting.discard(key)
            worked |= self._finish_deleting(key)
        for ns in list(self._namespaces):
            worked |= self._clean_namespace(ns)
        return worked

    def _finish_deleting(self, key: ObjectKey) -> bool:
        obj = self._store.get(*key)
        rt = self._rt(key[0])
        if obj is None or rt is None:
            return False
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        uid = meta["uid"]
        dependents = sorted(self._store.dependents.get(uid, ()))
        if "orphan" in finalizers:
            for dep_key in dependents:
                dep = self._store.get(*dep_key)
                dep_rt = self._rt(dep_key[0])
                if dep is None or dep_rt is None:
                    continue
                refs = [r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                dep_meta = {**dep["metadata"], "ownerReferences": refs}
                if not refs:
                    del dep_meta["ownerReferences"]
                self._cluster.replace_stored(dep_rt, {**dep, "metadata": dep_meta})
            finalizers.remove("orphan")
        elif "foregroundDeletion" in finalizers:
            pending = False
            for dep_key in dependents:
                dep = self._store.get(*dep_key)
                dep_rt = self._rt(dep_key[0])
                if dep is None or dep_rt is None:
                    continue
                pending = True
                if not dep["metadata"].get("deletionTimestamp"):
                    self._cluster.delete_now(dep_rt, dep_key[1], dep_key[2], policy="Foreground")
            if pending:
                return True
            finalizers.remove("foregroundDeletion")
        else:
            return False
        new_meta = {**meta, "finalizers": finalizers}
        if not finalizers:
            del new_meta["finalizers"]
        self._cluster.replace_stored(rt, {**obj, "metadata": new_meta})
        return True

    def _clean_namespace(self, ns: str) -> bool:
        namespace = self._store.get(builtin.NAMESPACES.key, "", ns)
        if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
            self._namespaces.discard(ns)
            return False
        worked = False
        remaining = 0
        for rt in list(self._cluster.types.values()):
            if not rt.namespaced:
                continue
            for obj in list(self._store.iter(rt.key, ns)):
                remaining += 1
                if not obj["metadata"].get("deletionTimestamp"):
                    self._cluster.delete_now(rt, ns, obj["metadata"]["name"])
                    worked = True
        if remaining and worked:
            return True
        still = sum(self._store.count(rt.key, ns) for rt in self._cluster.types.values() if rt.namespaced)
        if still:
            return worked
        spec = namespace.get("spec") or {}
        if spec.get("finalizers"):
            self._namespaces.discard(ns)
            self._cluster.replace_stored(
                builtin.NAMESPACES, {**namespace, "spec": {**spec, "finalizers": []}}
            )
            return True
        return worked
