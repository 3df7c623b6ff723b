"""Clear errors that the spec recovers from, owners (late, by armId), a geo-replication link, and
deletes that leave nothing behind in Azure and no object stuck in Deleting."""

from __future__ import annotations

import pytest
from redis_helpers import (
    ARM_API,
    GROUP,
    RG,
    Json,
    apply,
    redis,
    resource_group,
    wait_object_ready,
    which,
)

from aso.testing import ArmEmulatorHandle, ArmHttp, KubeApi, OperatorProcess, get, wait_for, wait_ready

pytestmark = pytest.mark.timeout(150)

NS = "life"


def _wait_error(k8s: KubeApi, obj: Json, reason: str) -> Json:
    failed = wait_ready(
        k8s, which(obj), obj["metadata"]["name"], namespace=NS, status="False", reason=reason, timeout=30
    )
    condition = next(c for c in failed["status"]["conditions"] if c["type"] == "Ready")
    assert condition["severity"] == "Error", condition
    return condition


def _child(kind: str, name: str, owner: dict[str, str], **spec: object) -> Json:
    return {
        "apiVersion": f"{GROUP}/v20241101",
        "kind": kind,
        "metadata": {"name": name, "namespace": NS},
        "spec": {"owner": owner, **spec},
    }


def test_errors_owners_links_and_deletes(
    kube_api: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    aso_operator.env["ASO_RETRY_MAX_DELAY"] = "1"
    aso_operator.start()
    control = arm_emulator.control
    resource_group(kube_api, NS)
    wait_ready(kube_api, RG, "aso-sample-rg", namespace=NS, timeout=30)
    rg_id = f"/subscriptions/{arm_emulator.subscription_id}/resourceGroups/aso-sample-rg-{NS}"

    # Values ARM refuses: Ready=False, severity Error, ARM's code and message; nothing is created.
    big = redis("big", NS, sku={"family": "P", "name": "Premium", "capacity": 9})
    nowhere = redis("nowhere", NS, location="atlantis")
    bad_name = redis("bad--name", NS)
    for obj in (big, nowhere, bad_name):
        apply(kube_api, obj)
    assert "sku.capacity" in _wait_error(kube_api, big, "InvalidValuesForRequestParameters")["message"]
    assert "atlantis" in _wait_error(kube_api, nowhere, "LocationNotAvailableForResourceType")["message"]
    assert "bad--name" in _wait_error(kube_api, bad_name, "InvalidResourceName")["message"]
    assert control.resources("Microsoft.Cache/redis") == []
    # Fixing the spec recovers each of them.
    apply(kube_api, redis("big", NS))
    apply(kube_api, redis("nowhere", NS))
    apply(kube_api, redis("bad--name", NS, azureName="good-name"))
    for obj in (big, nowhere, bad_name):
        wait_object_ready(kube_api, obj)
    assert f"{rg_id}/providers/Microsoft.Cache/Redis/good-name".lower() in {
        c["id"].lower() for c in control.resources("Microsoft.Cache/redis")
    }

    # A child waits for its owner, then is made.
    rule = _child("RedisFirewallRule", "early", {"name": "late"}, startIP="1.2.3.4", endIP="1.2.3.5")
    apply(kube_api, rule)
    waiting = wait_ready(
        kube_api, which(rule), "early", namespace=NS, status="False", reason="WaitingForOwner", timeout=30
    )
    assert next(c for c in waiting["status"]["conditions"] if c["type"] == "Ready")["severity"] == "Warning"
    apply(kube_api, redis("late", NS))
    wait_object_ready(kube_api, rule)

    # A cache aso does not manage is an owner by its ARM id.
    calls = ArmHttp(arm_emulator)
    outside = f"{rg_id}/providers/Microsoft.Cache/redis/outside"
    calls.call_json(
        "PUT",
        outside,
        ARM_API,
        {"location": "westus2", "properties": {"sku": {"family": "C", "name": "Basic", "capacity": 0}}},
    )
    wait_for(
        lambda: calls.call_json("GET", outside, ARM_API)["properties"]["provisioningState"] == "Succeeded",
        timeout=10,
        what="the cache made outside aso",
    )
    schedule = _child(
        "RedisPatchSchedule",
        "outside-patches",
        {"armId": outside},
        scheduleEntries=[{"dayOfWeek": "Weekend", "startHourUtc": 1}],
    )
    apply(kube_api, schedule)
    wait_object_ready(kube_api, schedule)
    assert control.get_resource(f"{outside}/patchSchedules/default") is not None

    # Geo-replication: a link from a primary to a secondary cache in another region.
    primary, secondary = redis("primary", NS), redis("secondary", NS, location="westcentralus")
    link = _child(
        "RedisLinkedServer",
        "secondary",
        {"name": "primary"},
        linkedRedisCacheReference={"group": GROUP, "kind": "Redis", "name": "secondary"},
        linkedRedisCacheLocation="westcentralus",
        serverRole="Secondary",
    )
    for obj in (primary, secondary, link):
        apply(kube_api, obj)
    linked = wait_object_ready(kube_api, link)
    assert linked["status"]["linkedRedisCacheId"].lower().endswith("/redis/secondary")
    assert linked["status"]["serverRole"] == "Secondary"

    # Deleting the linked caches and their link together: the link goes first in Azure, then the
    # caches (the secondary once it has finished unlinking); nothing is left, nothing is stuck.
    for obj in (primary, secondary, link):
        kube_api.custom.delete_namespaced_custom_object(
            *which(obj)[:2], NS, which(obj)[2], obj["metadata"]["name"]
        )
    wait_for(
        lambda: all(
            get(kube_api, which(o), o["metadata"]["name"], NS) is None for o in (primary, secondary, link)
        ),
        timeout=60,
        what="the caches and their link deleted",
    )
    names = {c["id"].rsplit("/", 1)[-1] for c in control.resources("Microsoft.Cache/redis")}
    assert "primary" not in names
    assert "secondary" not in names
    assert control.resources("Microsoft.Cache/redis/linkedServers") == []

    # Deleting the cache "late" alone: its firewall rule object goes with it (ownerReferences),
    # and Azure deletes the rule with the cache.
    late = redis("late", NS)
    kube_api.custom.delete_namespaced_custom_object(*which(late)[:2], NS, "redis", "late")
    wait_for(
        lambda: (
            get(kube_api, which(late), "late", NS) is None and get(kube_api, which(rule), "early", NS) is None
        ),
        timeout=60,
        what="the cache and its firewall rule object gone",
    )
    assert control.resources("Microsoft.Cache/redis/firewallRules") == []

    # Deleting the group object alone: every object it owns, directly or not, goes with it and
    # nothing is left in Azure. (The schedule of the cache made outside aso names its owner by ARM
    # id: it is no dependent of the group object, and is deleted by itself afterwards.)
    everything = [big, nowhere, bad_name]
    kube_api.custom.delete_namespaced_custom_object(*RG[:2], NS, RG[2], "aso-sample-rg")
    wait_for(
        lambda: (
            all(get(kube_api, which(o), o["metadata"]["name"], NS) is None for o in everything)
            and get(kube_api, RG, "aso-sample-rg", NS) is None
        ),
        timeout=60,
        what="every object gone",
    )
    assert control.get_resource(rg_id) is None
    assert control.resources("Microsoft.Cache/redis") == []
    kube_api.custom.delete_namespaced_custom_object(
        *which(schedule)[:2], NS, which(schedule)[2], "outside-patches"
    )
    wait_for(
        lambda: get(kube_api, which(schedule), "outside-patches", NS) is None,
        timeout=30,
        what="schedule gone",
    )
