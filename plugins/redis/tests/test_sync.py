"""Versions, exports and the periodic sync of caches and their children.

One operator with a 2 s sync period: what each API version answers (``redisVersion`` full or
major, ``updateChannel``, the 2024-11-01 fields), round trips through the hub, exports and key
rotation done outside aso, no PUT when nothing changed, drift corrected.
"""

from __future__ import annotations

from typing import Any

import pytest
from redis_helpers import (
    ARM_API,
    GROUP,
    Json,
    apply,
    redis,
    resource_group,
    secret_data,
    wait_object_ready,
)

from aso.testing import ArmEmulatorHandle, ArmHttp, KubeApi, OperatorProcess, get, wait_for

pytestmark = pytest.mark.timeout(150)

NS = "sync"
EXPORTS = {
    "secrets": {
        name: {"name": "cache-secrets", "key": name}
        for name in ("primaryKey", "secondaryKey", "hostName", "port", "sslPort")
    },
    "configMaps": {name: {"name": "cache-endpoint", "key": name} for name in ("hostName", "port", "sslPort")},
}


def _child(kind: str, name: str, owner: str, version: str, **spec: Any) -> Json:
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": kind,
        "metadata": {"name": name, "namespace": NS},
        "spec": {"owner": {"name": owner}, **spec},
    }


def test_versions_exports_rotation_and_sync(
    kube_api: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    aso_operator.env["AZURE_SYNC_PERIOD"] = "2s"
    aso_operator.start()
    resource_group(kube_api, NS)
    old = redis("old", NS, "v1api20201201", operatorSpec=EXPORTS)
    new = redis(
        "new",
        NS,
        "v20241101",
        zonalAllocationPolicy="NoZones",
        updateChannel="Preview",
        disableAccessKeyAuthentication=False,
        replicasPerPrimary=2,
    )
    newest = redis("newest", NS, "v1api20230801", redisVersion="latest")
    children = [
        _child("RedisFirewallRule", "office", "old", "v1api20201201", startIP="10.0.0.1", endIP="10.0.0.9"),
        _child(
            "RedisPatchSchedule",
            "old-patches",
            "old",
            "v1api20230401",
            scheduleEntries=[{"dayOfWeek": "Sunday", "startHourUtc": 2, "maintenanceWindow": "PT5H"}],
        ),
        _child("RedisFirewallRule", "lab", "new", "v20241101", startIP="10.1.0.1", endIP="10.1.0.1"),
    ]
    for obj in (old, new, newest, *children):
        apply(kube_api, obj)
    wait_object_ready(kube_api, newest)
    old_ready = wait_object_ready(kube_api, old)
    new_ready = wait_object_ready(kube_api, new)
    for obj in children:
        wait_object_ready(kube_api, obj)

    # Each object's requests use its version's api-version, and the answers differ by version:
    # 2020-12-01 answers the full Redis version and has no update channel.
    assert old_ready["status"]["redisVersion"] == "6.0.14"
    assert "updateChannel" not in old_ready["status"]
    assert new_ready["status"]["redisVersion"] == "6.0"
    assert new_ready["status"]["updateChannel"] == "Preview"
    assert new_ready["status"]["zonalAllocationPolicy"] == "NoZones"
    assert new_ready["status"]["replicasPerPrimary"] == 2
    assert new_ready["status"]["disableAccessKeyAuthentication"] is False
    assert "accessKeys" not in old_ready["status"]
    assert "accessKeys" not in new_ready["status"]

    # Read and written through v1api20201201, the 2024-11-01 fields survive (property bag).
    as_old = get(kube_api, (GROUP, "v1api20201201", "redis"), "new", NS)
    assert as_old is not None
    assert "zonalAllocationPolicy" not in as_old["spec"]
    assert "updateChannel" not in as_old["spec"]
    kube_api.custom.patch_namespaced_custom_object(
        GROUP, "v1api20201201", NS, "redis", "new", {"spec": {"tags": {"team": "cache"}}}
    )
    round_trip = get(kube_api, (GROUP, "v20241101", "redis"), "new", NS)
    assert round_trip is not None
    assert round_trip["spec"]["zonalAllocationPolicy"] == "NoZones"
    assert round_trip["spec"]["updateChannel"] == "Preview"
    assert round_trip["spec"]["tags"] == {"team": "cache"}
    new_id = new_ready["status"]["id"]
    wait_for(
        lambda: (arm_emulator.control.get_resource(new_id) or {}).get("tags") == {"team": "cache"},
        timeout=30,
        what="the tag written through v1api20201201 in Azure",
    )

    # Exports: keys from listKeys, the endpoint from the cache, in the Secret and the ConfigMap.
    calls = ArmHttp(arm_emulator)
    old_id = old_ready["status"]["id"]
    keys = calls.call_json("POST", f"{old_id}/listKeys", ARM_API)
    exported = wait_for(lambda: secret_data(kube_api, "cache-secrets", NS), timeout=30, what="secret")
    host = f"{old_id.rsplit('/', 1)[-1]}.redis.cache.windows.net"
    assert exported == {
        "primaryKey": keys["primaryKey"],
        "secondaryKey": keys["secondaryKey"],
        "hostName": host,
        "port": "6379",
        "sslPort": "6380",
    }
    config = kube_api.core.read_namespaced_config_map("cache-endpoint", NS)
    assert config.data == {"hostName": host, "port": "6379", "sslPort": "6380"}
    # The keys are in the Secret only: not in the object, nor in the operator's log.
    for key in (keys["primaryKey"], keys["secondaryKey"]):
        assert key not in str(get(kube_api, (GROUP, "v1api20201201", "redis"), "old", NS))
        assert key not in aso_operator.log()

    # A key regenerated outside aso is exported again at the next sync.
    rotated = calls.call_json("POST", f"{old_id}/regenerateKey", ARM_API, {"keyType": "Primary"})
    assert rotated["primaryKey"] != keys["primaryKey"]
    wait_for(
        lambda: (secret_data(kube_api, "cache-secrets", NS) or {}).get("primaryKey") == rotated["primaryKey"],
        timeout=30,
        what="the rotated primary key exported",
    )
    assert (secret_data(kube_api, "cache-secrets", NS) or {})["secondaryKey"] == keys["secondaryKey"]

    # Nothing changed: two sync rounds of every object make no write ("latest" included: Azure
    # answers the version it chose).
    control = arm_emulator.control
    control.reset_counts()
    types = (
        "microsoft.cache/redis",
        "microsoft.cache/redis/firewallrules",
        "microsoft.cache/redis/patchschedules",
    )
    wait_for(
        lambda: all(control.counts().get("GET", t) >= (8 if t == types[0] else 2) for t in types),
        timeout=40,
        what="two sync rounds",
    )
    counts = control.counts()
    assert {t: counts.get("PUT", t) + counts.get("PATCH", t) for t in types} == dict.fromkeys(types, 0)
    # The cache asking for "latest" was never found different from its spec.
    assert "redis/newest differs from the spec" not in aso_operator.log()

    # Drift made outside is corrected at the next sync.
    control.drift(old_id, {"properties": {"sku": {"capacity": 3}}})

    def capacity() -> Any:
        return ((control.get_resource(old_id) or {}).get("properties") or {}).get("sku", {}).get("capacity")

    wait_for(
        lambda: capacity() == 1,
        timeout=40,
        what="the drift corrected",
    )
    assert control.counts().get("PUT", "microsoft.cache/redis") >= 1
