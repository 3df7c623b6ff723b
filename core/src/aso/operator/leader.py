"""Leader election through a ``coordination.k8s.io/v1`` Lease, as client-go's leaderelection does.

kopf has no leader election (its peering pauses lower-priority operators but is not a lease), so
the operator holds one Lease per shard and runs kopf's handlers only while it holds it. Expiry is
judged on this process's monotonic clock from the moment it last saw the Lease change (as
client-go does), never by comparing ``renewTime`` with the local wall clock, so clock skew between
nodes cannot make a standby take a Lease its holder is still renewing. Every write carries the
``resourceVersion`` that was read: two candidates writing at once get one success and one 409.

The guarantee is client-go's: a leader that cannot renew within ``renew_deadline`` stops (and the
process exits), and a standby takes over only after ``lease_duration`` without a change, so as
long as ``renew_deadline < lease_duration`` and clocks run at the same *rate*, two leaders never
overlap. A leader stopped by SIGTERM empties ``holderIdentity`` so a standby takes over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from aso.common import utc_now
from aso.operator.kubeapi import KubeApiError, KubeClient, resource_path

__all__ = ["LeaderElector", "LeadershipLost", "LeaseConfig"]

log = logging.getLogger("aso.operator.leader")


class LeadershipLost(Exception):
    """The Lease was taken by another holder or could not be renewed within the renew deadline."""


@dataclass(frozen=True, kw_only=True)
class LeaseConfig:
    namespace: str
    name: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0


class LeaderElector:
    """Acquire, renew and release one Lease; ``is_leader`` says whether this process holds it."""

    def __init__(self, kube: KubeClient, config: LeaseConfig) -> None:
        self.kube = kube
        self.config = config
        self.is_leader = False
        self._path = resource_path("coordination.k8s.io", "v1", "leases", config.namespace)
        #: (resourceVersion seen last, monotonic time it was first seen)
        self._observed: tuple[str, float] | None = None
        self._lease: dict[str, Any] | None = None

    def _spec(self, transitions: int, acquire_time: str) -> dict[str, Any]:
        return {
            "holderIdentity": self.config.identity,
            "leaseDurationSeconds": max(1, round(self.config.lease_duration)),
            "acquireTime": acquire_time,
            "renewTime": utc_now(6),
            "leaseTransitions": transitions,
        }

    def _observe(self, lease: dict[str, Any]) -> None:
        version = str(lease.get("metadata", {}).get("resourceVersion", ""))
        if self._observed is None or self._observed[0] != version:
            self._observed = (version, time.monotonic())
        self._lease = lease

    async def try_acquire_or_renew(self) -> bool:
        """One attempt (client-go's ``tryAcquireOrRenew``): True when this process holds the Lease."""
        lease = await self.kube.get(f"{self._path}/{self.config.name}")
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.config.name, "namespace": self.config.namespace},
                "spec": self._spec(0, utc_now(6)),
            }
            try:
                created = await self.kube.request("POST", self._path, body)
            except KubeApiError as exc:
                if exc.status == 409:  # another candidate created it first
                    return False
                raise
            self._observe(created)
            return True
        self._observe(lease)
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        mine = holder == self.config.identity
        if holder and not mine:
            duration = float(spec.get("leaseDurationSeconds") or self.config.lease_duration)
            assert self._observed is not None
            if time.monotonic() < self._observed[1] + duration:
                return False  # held by someone else and not expired (as this process sees it)
        transitions = int(spec.get("leaseTransitions") or 0)
        acquire_time = spec.get("acquireTime") if mine else utc_now(6)
        updated = {
            **lease,
            "spec": self._spec(transitions if mine else transitions + 1, str(acquire_time or utc_now(6))),
        }
        try:
            result = await self.kube.request("PUT", f"{self._path}/{self.config.name}", updated)
        except KubeApiError as exc:
            if exc.status == 409:  # written in between: read again next time
                return False
            raise
        self._observe(result)
        return True

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Try every ``retry_period`` until the Lease is held (True) or ``stop`` is set (False)."""
        log.info(
            "waiting for lease %s/%s as %s",
            self.config.namespace,
            self.config.name,
            self.config.identity,
        )
        while not stop.is_set():
            try:
                if await self.try_acquire_or_renew():
                    self.is_leader = True
                    log.info("acquired lease %s/%s", self.config.namespace, self.config.name)
                    return True
            except Exception as exc:  # the API server may be briefly away; keep trying
                log.warning("lease %s: %s", self.config.name, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.retry_period)
        return False

    async def hold(self) -> None:
        """Renew every ``retry_period``; raise :class:`LeadershipLost` when the Lease is another's
        or no renewal succeeded within ``renew_deadline``."""
        last_renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.config.retry_period)
            # A hanging request may use only what is left of the deadline: the leader stops by
            # last renewal + renew_deadline at the latest, before any standby may start.
            remaining = last_renewed + self.config.renew_deadline - time.monotonic()
            try:
                if remaining > 0 and await asyncio.wait_for(self.try_acquire_or_renew(), remaining):
                    last_renewed = time.monotonic()
                    continue
                holder = ((self._lease or {}).get("spec") or {}).get("holderIdentity")
                if holder and holder != self.config.identity:
                    self.is_leader = False
                    raise LeadershipLost(f"lease {self.config.name} is now held by {holder}")
            except (KubeApiError, OSError, TimeoutError) as exc:
                log.warning("lease %s: renewal failed: %s", self.config.name, exc)
            if time.monotonic() - last_renewed > self.config.renew_deadline:
                self.is_leader = False
                raise LeadershipLost(
                    f"lease {self.config.name} not renewed within {self.config.renew_deadline:g}s"
                )

    async def release(self) -> None:
        """Empty ``holderIdentity`` (when still ours) so a standby need not wait for expiry."""
        if not self.is_leader:
            return
        self.is_leader = False
        try:
            lease = await self.kube.get(f"{self._path}/{self.config.name}")
            if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.config.identity:
                return
            spec = dict(lease.get("spec") or {})
            spec.update(holderIdentity="", leaseDurationSeconds=1, renewTime=utc_now(6))
            await self.kube.request("PUT", f"{self._path}/{self.config.name}", {**lease, "spec": spec})
            log.info("released lease %s/%s", self.config.namespace, self.config.name)
        except Exception as exc:  # it expires on its own
            log.warning("could not release lease %s: %s", self.config.name, exc)
