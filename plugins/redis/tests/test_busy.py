"""While a cache is being created or updated Azure answers 409 Conflict to writes on it and on its
firewall rules, patch schedule and links: the operator retries them (a Warning, never an Error) and
every object ends Ready with what its spec says."""

from __future__ import annotations

from typing import Any

import pytest
from redis_helpers import (
    GROUP,
    Json,
    apply,
    redis,
    resource_group,
    slow_cache_writes,
    wait_object_ready,
    which,
)

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess, get, ready_condition, wait_for

pytestmark = pytest.mark.timeout(120)

NS = "busy"


def _rule(end_ip: str) -> Json:
    return {
        "apiVersion": f"{GROUP}/v1api20230801",
        "kind": "RedisFirewallRule",
        "metadata": {"name": "office", "namespace": NS},
        "spec": {"owner": {"name": "slow"}, "startIP": "10.0.0.1", "endIP": end_ip},
    }


def test_writes_to_a_busy_cache_and_its_children_are_retried(
    kube_api: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    # A cache create or update takes 8 reads here (the test emulator says to read again at once,
    # so the operator reads every half second).
    slow_cache_writes(arm_emulator)
    aso_operator.env["ASO_RETRY_MAX_DELAY"] = "1"
    aso_operator.start()
    resource_group(kube_api, NS)
    cache = redis("slow", NS, "v1api20230801")
    schedule = {
        "apiVersion": f"{GROUP}/v1api20230801",
        "kind": "RedisPatchSchedule",
        "metadata": {"name": "slow-patches", "namespace": NS},
        "spec": {
            "owner": {"name": "slow"},
            "scheduleEntries": [{"dayOfWeek": "Monday", "startHourUtc": 6, "maintenanceWindow": "PT6H"}],
        },
    }
    seen: list[dict[str, Any]] = []

    def conflict_seen(obj: Json) -> Json | None:
        condition = ready_condition(get(kube_api, which(obj), obj["metadata"]["name"], NS))
        seen.append(condition)
        return condition if condition.get("reason") == "Conflict" else None

    for obj in (cache, _rule("10.0.0.9"), schedule):
        apply(kube_api, obj)
    for child in (_rule("10.0.0.9"), schedule):
        refused = wait_for(lambda child=child: conflict_seen(child), timeout=30, what="409 Conflict")
        assert (refused["status"], refused["severity"]) == ("False", "Warning")
        assert "busy processing a previous update request" in refused["message"]
    ready = wait_object_ready(kube_api, cache)
    for child in (_rule("10.0.0.9"), schedule):
        wait_object_ready(kube_api, child)
    assert all(c.get("severity") != "Error" for c in seen)

    # While the cache is updating (a new tag), a changed rule is refused, retried and applied.
    seen.clear()
    arm_emulator.control.reset_counts()
    apply(kube_api, {**cache, "spec": {**cache["spec"], "tags": {"tier": "gold"}}})
    wait_for(
        lambda: (
            (arm_emulator.control.get_resource(ready["status"]["id"]) or {})
            .get("properties", {})
            .get("provisioningState")
            == "Updating"
        ),
        timeout=30,
        what="the cache updating",
    )
    apply(kube_api, _rule("10.0.0.20"))
    wait_for(lambda: conflict_seen(_rule("10.0.0.20")), timeout=30, what="409 Conflict during the update")
    rule_id = f"{ready['status']['id']}/firewallRules/office"
    wait_for(
        lambda: (
            (arm_emulator.control.get_resource(rule_id) or {}).get("properties", {}).get("endIP")
            == "10.0.0.20"
        ),
        timeout=40,
        what="the rule's new end address in Azure",
    )
    wait_object_ready(kube_api, _rule("10.0.0.20"))
    assert all(c.get("severity") != "Error" for c in seen)
    assert arm_emulator.control.counts().get("PUT", "microsoft.cache/redis/firewallrules") >= 2
