"""A fully populated cache, firewall rule, patch schedule and link written in the newest version
read and written back through every served and storage version (the conversion webhook of a
running operator) comes back unchanged: fields an older version lacks ride in the property bag."""

from __future__ import annotations

import copy

import kubernetes
import pytest
from redis_helpers import GROUP, PLURALS, Json

from aso.testing import KubeApi, OperatorProcess, ensure_namespace, get

pytestmark = pytest.mark.timeout(90)

NS = "convert"
VERSIONS = ("v1api20201201", "v1api20230401", "v1api20230801", "v20230801", "v20241101")
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers"
SKIP = {"serviceoperator.azure.com/reconcile-policy": "skip"}

FULL_CACHE = {
    "azureName": "full-cache",
    "location": "westus2",
    "owner": {"name": "aso-sample-rg"},
    "sku": {"family": "P", "name": "Premium", "capacity": 2},
    "enableNonSslPort": True,
    "disableAccessKeyAuthentication": True,
    "identity": {
        "type": "SystemAssigned, UserAssigned",
        "userAssignedIdentities": [
            {"reference": {"armId": f"{SUB}/Microsoft.ManagedIdentity/userAssignedIdentities/id1"}}
        ],
    },
    "minimumTlsVersion": "1.2",
    "publicNetworkAccess": "Disabled",
    "redisConfiguration": {
        "aad-enabled": "true",
        "aof-backup-enabled": "false",
        "authnotrequired": "false",
        "maxfragmentationmemory-reserved": "50",
        "maxmemory-delta": "10",
        "maxmemory-policy": "allkeys-lru",
        "maxmemory-reserved": "50",
        "notify-keyspace-events": "KEA",
        "preferred-data-persistence-auth-method": "ManagedIdentity",
        "rdb-backup-enabled": "true",
        "rdb-backup-frequency": "60",
        "rdb-backup-max-snapshot-count": "1",
        "storage-subscription-id": "00000000-0000-0000-0000-000000000000",
    },
    "redisVersion": "6",
    "replicasPerMaster": 2,
    "replicasPerPrimary": 2,
    "shardCount": 3,
    "staticIP": "10.0.0.10",
    "subnetReference": {"armId": f"{SUB}/Microsoft.Network/virtualNetworks/vnet/subnets/cache"},
    "tags": {"env": "test"},
    "tenantSettings": {"setting": "value"},
    "updateChannel": "Preview",
    "zonalAllocationPolicy": "UserDefined",
    "zones": ["1", "2"],
    "operatorSpec": {
        "secrets": {
            name: {"name": "full-secrets", "key": name}
            for name in ("primaryKey", "secondaryKey", "hostName", "port", "sslPort")
        },
        "configMaps": {
            name: {"name": "full-endpoint", "key": name} for name in ("hostName", "port", "sslPort")
        },
    },
}
FULL = {
    "Redis": FULL_CACHE,
    "RedisFirewallRule": {
        "azureName": "office",
        "owner": {"name": "full"},
        "startIP": "10.0.0.1",
        "endIP": "10.0.0.9",
    },
    "RedisPatchSchedule": {
        "owner": {"name": "full"},
        "scheduleEntries": [
            {"dayOfWeek": "Monday", "startHourUtc": 6, "maintenanceWindow": "PT6H"},
            {"dayOfWeek": "Weekend", "startHourUtc": 1},
        ],
    },
    "RedisLinkedServer": {
        "azureName": "other",
        "owner": {"name": "full"},
        "linkedRedisCacheReference": {"group": GROUP, "kind": "Redis", "name": "other"},
        "linkedRedisCacheLocation": "westcentralus",
        "serverRole": "Secondary",
    },
}


def _write_back(kube_api: KubeApi, version: str, plural: str, kind: str) -> None:
    """Read the object at ``version`` and write it back unchanged (a tag added on the cache), as a
    client of that version does; the operator writes the status meanwhile, so a conflict is read
    again."""
    for _ in range(20):
        there = get(kube_api, (GROUP, version, plural), "full", NS)
        assert there is not None
        if kind == "Redis":
            there["spec"]["tags"]["seen"] = version
        try:
            kube_api.custom.replace_namespaced_custom_object(GROUP, version, NS, plural, "full", there)
            return
        except kubernetes.client.ApiException as exc:
            if exc.status != 409:
                raise
    raise AssertionError(f"{kind} could not be written at {version}")


def _spec(obj: Json | None) -> Json:
    assert obj is not None
    return {k: v for k, v in obj["spec"].items() if k != "originalVersion"}


def test_fully_populated_objects_round_trip_through_every_version(
    kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    ensure_namespace(kube_api, NS)
    for kind in sorted(FULL):
        _round_trip(kube_api, kind)


def _round_trip(kube_api: KubeApi, kind: str) -> None:
    plural = PLURALS[kind]
    body = {
        "apiVersion": f"{GROUP}/v20241101",
        "kind": kind,
        "metadata": {"name": "full", "namespace": NS, "annotations": SKIP},
        "spec": copy.deepcopy(FULL[kind]),
    }
    kube_api.custom.create_namespaced_custom_object(
        GROUP, "v20241101", NS, plural, body, field_validation="Strict"
    )
    for version in (*VERSIONS, *(v + "storage" for v in VERSIONS)):
        _write_back(kube_api, version, plural, kind)
        back = _spec(get(kube_api, (GROUP, "v20241101", plural), "full", NS))
        expected = copy.deepcopy(FULL[kind])
        if kind == "Redis":
            expected["tags"] = {"env": "test", "seen": version}
        assert back == expected, version
