"""Leader election: two real operator processes share one Lease on the local API server; only the
holder reconciles, and the other takes over when the holder stops (SIGTERM: at once, through the
released Lease; kill -9: once the Lease expires). ARM's PUT counts show that no object was written
by both."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from aso.operator.kubeapi import KubeClient, load_connection
from aso.operator.leader import LeaderElector, LeaseConfig
from aso.testing.arm import ArmEmulatorHandle
from aso.testing.kube import KubeApi, create, wait_for, wait_ready
from aso.testing.operator import OperatorProcess

pytestmark = pytest.mark.timeout(180)

STORED = ("resources.azure.com", "v1api20200601storage", "resourcegroups")
RG_TYPE = "Microsoft.Resources/resourceGroups"
LEASE = "aso-test-leader"
LEASE_DURATION = 4.0
LEASE_ENV = {
    "ASO_LEADER_ELECTION": "true",
    "ASO_LEADER_ELECTION_ID": LEASE,
    "ASO_LEADER_ELECTION_NAMESPACE": "default",
    "ASO_LEASE_DURATION": str(LEASE_DURATION),
    "ASO_LEASE_RENEW_DEADLINE": "3",
    "ASO_LEASE_RETRY_PERIOD": "0.5",
}


def _lease(k8s: KubeApi, name: str = LEASE) -> dict[str, Any]:
    api = kubernetes.client.CoordinationV1Api(k8s.client)
    lease: dict[str, Any] = api.api_client.sanitize_for_serialization(
        api.read_namespaced_lease(name, "default")
    )
    return lease


def _holder(k8s: KubeApi) -> str | None:
    try:
        return _lease(k8s)["spec"].get("holderIdentity") or None
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _rg(k8s: KubeApi, name: str) -> None:
    # At the storage version: no conversion webhook needed while either process is down.
    create(
        k8s,
        {
            "apiVersion": f"{STORED[0]}/{STORED[1]}",
            "kind": "ResourceGroup",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"location": "westus", "originalVersion": "v1api20200601"},
        },
        plural=STORED[2],
    )


def _leader_and_standby(
    aso_operator: OperatorProcess, kube_api: KubeApi, arm_emulator: ArmEmulatorHandle, tmp_path: Path
) -> tuple[OperatorProcess, OperatorProcess]:
    """Operator ``a`` holding the Lease and operator ``b`` started as its standby (the caller
    stops ``b``); ARM's request counts start from zero."""
    aso_operator.env.update(LEASE_ENV, ASO_LEADER_ELECTION_IDENTITY="a")
    standby = aso_operator.second(tmp_path / "b", {**LEASE_ENV, "ASO_LEADER_ELECTION_IDENTITY": "b"})
    arm_emulator.control.reset_counts()
    aso_operator.start()
    wait_for(lambda: _holder(kube_api) == "a", timeout=20, what="a holds the lease")
    standby.start()
    return aso_operator, standby


def _puts(arm_emulator: ArmEmulatorHandle) -> int:
    return arm_emulator.control.counts().get("PUT", RG_TYPE)


def test_one_leader_reconciles_and_sigterm_hands_over_at_once(
    aso_operator: OperatorProcess, kube_api: KubeApi, arm_emulator: ArmEmulatorHandle, tmp_path: Path
) -> None:
    a, b = _leader_and_standby(aso_operator, kube_api, arm_emulator, tmp_path)
    try:
        assert _holder(kube_api) == "a"
        assert "aso_leader 0.0" in b.metrics()
        assert "aso_leader 1.0" in a.metrics()

        for i in range(3):
            _rg(kube_api, f"le-before-{i}")
        for i in range(3):
            wait_ready(kube_api, STORED, f"le-before-{i}")
        assert "le-before" not in b.log()  # the standby touched nothing

        transitions = _lease(kube_api)["spec"]["leaseTransitions"]
        a.stop()  # SIGTERM: kopf stops (its workers finish), then the Lease is released
        assert a.proc is not None
        assert a.proc.returncode == 0
        stopped = time.monotonic()
        wait_for(lambda: _holder(kube_api) == "b", timeout=LEASE_DURATION, what="b takes over")
        assert time.monotonic() - stopped < 2.0  # b's next retry, not the expiry: the release
        assert _lease(kube_api)["spec"]["leaseTransitions"] == transitions + 1

        for i in range(3):
            _rg(kube_api, f"le-after-{i}")
        for i in range(3):
            wait_ready(kube_api, STORED, f"le-after-{i}")
        assert _puts(arm_emulator) == 6  # one PUT per object: none written by both
    finally:
        b.stop()


def test_kill_9_hands_over_after_the_lease_expires(
    aso_operator: OperatorProcess, kube_api: KubeApi, arm_emulator: ArmEmulatorHandle, tmp_path: Path
) -> None:
    a, b = _leader_and_standby(aso_operator, kube_api, arm_emulator, tmp_path)
    try:
        _rg(kube_api, "le-kill-0")
        wait_ready(kube_api, STORED, "le-kill-0")

        killed = time.monotonic()
        a.kill()
        _rg(kube_api, "le-kill-1")  # created while nobody leads
        wait_for(lambda: _holder(kube_api) == "b", timeout=LEASE_DURATION + 10, what="b takes over")
        # b saw the Lease last change at most one retry period before the kill.
        assert time.monotonic() - killed >= LEASE_DURATION - 1.0
        wait_ready(kube_api, STORED, "le-kill-1")
        _rg(kube_api, "le-kill-2")
        wait_ready(kube_api, STORED, "le-kill-2")
        assert _puts(arm_emulator) == 3
    finally:
        b.stop()


def test_a_leader_whose_lease_is_taken_stops_and_exits_non_zero(
    aso_operator: OperatorProcess, kube_api: KubeApi
) -> None:
    aso_operator.env.update(LEASE_ENV, ASO_LEADER_ELECTION_IDENTITY="a")
    aso_operator.start()
    wait_for(lambda: _holder(kube_api) == "a", timeout=20, what="a holds the lease")
    api = kubernetes.client.CoordinationV1Api(kube_api.client)
    lease = _lease(kube_api)
    lease["spec"].update(holderIdentity="intruder", leaseDurationSeconds=3600)
    api.replace_namespaced_lease(LEASE, "default", lease)  # type: ignore[arg-type]  # a dict is sent as is
    proc = aso_operator.proc
    assert proc is not None
    wait_for(lambda: proc.poll() is not None, timeout=10, what="the old leader exits")
    assert proc.returncode == 1
    assert "leadership lost" in aso_operator.log()


def test_concurrent_candidates_get_one_lease(kube_api: KubeApi) -> None:
    """Two electors racing on a fresh Lease: resourceVersion conflicts let exactly one win."""

    async def race() -> list[bool]:
        kubes = [KubeClient(load_connection(str(kube_api.kubeconfig))) for _ in range(2)]
        electors = [
            LeaderElector(
                kube,
                LeaseConfig(namespace="default", name="race", identity=f"c{i}", lease_duration=30.0),
            )
            for i, kube in enumerate(kubes)
        ]
        try:
            results: list[bool] = []
            for _ in range(5):
                results = list(await asyncio.gather(*(e.try_acquire_or_renew() for e in electors)))
                if any(results):
                    break
            # A second round: the winner renews, the loser still sees a live Lease.
            again = await asyncio.gather(*(e.try_acquire_or_renew() for e in electors))
            assert list(again) == results
            return results
        finally:
            for kube in kubes:
                await kube.close()

    assert sorted(asyncio.run(race())) == [False, True]


def test_local_api_server_refuses_a_stale_lease_update(kube_api: KubeApi) -> None:
    """What the election relies on: an update carrying an old resourceVersion is a 409 Conflict."""
    api = kubernetes.client.CoordinationV1Api(kube_api.client)
    body = {"metadata": {"name": "stale"}, "spec": {"holderIdentity": "x", "leaseDurationSeconds": 15}}
    api.create_namespaced_lease("default", body)  # type: ignore[arg-type]
    read: dict[str, Any] = kube_api.client.sanitize_for_serialization(
        api.read_namespaced_lease("stale", "default")
    )
    read["spec"]["holderIdentity"] = "y"
    api.replace_namespaced_lease("stale", "default", read)  # type: ignore[arg-type]  # a dict is sent as is
    read["spec"]["holderIdentity"] = "z"
    with pytest.raises(kubernetes.client.ApiException) as conflict:
        api.replace_namespaced_lease("stale", "default", read)  # type: ignore[arg-type]
    assert conflict.value.status == 409
    assert _lease(kube_api, "stale")["spec"]["holderIdentity"] == "y"
