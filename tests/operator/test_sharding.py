"""Sharding: two operator processes on disjoint shards (a label selector, or a namespace list)
against the same local backends; each object is reconciled by exactly one of them, and an object
in no shard by neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from aso.testing.arm import ArmEmulatorHandle
from aso.testing.kube import KubeApi, create, ensure_namespace, get, wait_ready
from aso.testing.operator import OperatorProcess

pytestmark = pytest.mark.timeout(180)

STORED = ("resources.azure.com", "v1api20200601storage", "resourcegroups")
RG_TYPE = "Microsoft.Resources/resourceGroups"


def _rg(k8s: KubeApi, name: str, namespace: str = "default", labels: dict[str, str] | None = None) -> None:
    create(
        k8s,
        {
            "apiVersion": f"{STORED[0]}/{STORED[1]}",
            "kind": "ResourceGroup",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"location": "westus", "originalVersion": "v1api20200601"},
        },
        plural=STORED[2],
    )


def _shard_env(name: str, **extra: str) -> dict[str, str]:
    # Leader election on, one Lease per shard: both processes lead at once.
    return {
        "ASO_LEADER_ELECTION": "true",
        "ASO_LEADER_ELECTION_NAMESPACE": "default",
        "ASO_LEADER_ELECTION_ID": f"aso-shard-{name}",
        "ASO_LEASE_RETRY_PERIOD": "0.5",
        **extra,
    }


def test_label_selector_shards_split_the_objects(
    aso_operator: OperatorProcess, kube_api: KubeApi, arm_emulator: ArmEmulatorHandle, tmp_path: Path
) -> None:
    arm_emulator.control.reset_counts()
    aso_operator.env.update(_shard_env("a", ASO_LABEL_SELECTOR="aso.dev/shard=a"))
    other = aso_operator.second(
        tmp_path / "second", _shard_env("b", ASO_LABEL_SELECTOR="aso.dev/shard in (b)")
    )
    try:
        aso_operator.start()
        other.start()
        names = {"a": [f"shard-a-{i}" for i in range(3)], "b": [f"shard-b-{i}" for i in range(3)]}
        for shard, shard_names in names.items():
            for name in shard_names:
                _rg(kube_api, name, labels={"aso.dev/shard": shard})
        _rg(kube_api, "shard-none", labels={"aso.dev/shard": "c"})
        for name in names["a"] + names["b"]:
            wait_ready(kube_api, STORED, name)

        assert arm_emulator.control.counts().get("PUT", RG_TYPE) == 6
        logs = {"a": aso_operator.log(), "b": other.log()}
        for shard, shard_names in names.items():
            mine, theirs = logs[shard], logs["b" if shard == "a" else "a"]
            for name in shard_names:
                assert f"default/{name}]" in mine
                assert f"default/{name}]" not in theirs
        assert "shard-none" not in logs["a"] + logs["b"]
        assert not (get(kube_api, STORED, "shard-none") or {}).get("status")
    finally:
        other.stop()


def test_namespace_shards_split_the_objects(
    aso_operator: OperatorProcess, kube_api: KubeApi, arm_emulator: ArmEmulatorHandle, tmp_path: Path
) -> None:
    for ns in ("team-a", "team-b", "team-c"):
        ensure_namespace(kube_api, ns)
    arm_emulator.control.reset_counts()
    aso_operator.env.update(_shard_env("a", AZURE_TARGET_NAMESPACES="team-a"))
    other = aso_operator.second(tmp_path / "second", _shard_env("b", AZURE_TARGET_NAMESPACES="team-b"))
    try:
        aso_operator.start()
        other.start()
        for ns in ("team-a", "team-b", "team-c"):
            _rg(kube_api, f"ns-{ns}", namespace=ns)
        wait_ready(kube_api, STORED, "ns-team-a", namespace="team-a")
        wait_ready(kube_api, STORED, "ns-team-b", namespace="team-b")
        assert arm_emulator.control.counts().get("PUT", RG_TYPE) == 2
        assert "ns-team-b" not in aso_operator.log()
        assert "ns-team-a" not in other.log()
        assert not (get(kube_api, STORED, "ns-team-c", namespace="team-c") or {}).get("status")
    finally:
        other.stop()
