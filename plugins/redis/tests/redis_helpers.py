"""What the plugin's end-to-end tests share: where the ASO v2 samples are, and small builders."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import kubernetes

from aso.testing import ArmEmulatorHandle, KubeApi, create, ensure_namespace, get, wait_ready

Json = dict[str, Any]
GROUP = "cache.azure.com"
PLURALS = {
    "Redis": "redis",
    "RedisFirewallRule": "redisfirewallrules",
    "RedisPatchSchedule": "redispatchschedules",
    "RedisLinkedServer": "redislinkedservers",
    "ResourceGroup": "resourcegroups",
}
#: The cache API version of the plain ARM calls that play a user outside aso.
ARM_API = "2023-08-01"
RG = ("resources.azure.com", "v1api20200601", "resourcegroups")

#: ASO v2's samples for cache.azure.com (``shared/conformance/aso-samples/cache``).
SAMPLES_DIR = Path(
    os.environ.get(
        "ASO_CACHE_SAMPLES",
        Path(__file__).resolve().parents[3] / ".." / "shared" / "conformance" / "aso-samples" / "cache",
    )
).resolve()


def which(obj: Json) -> tuple[str, str, str]:
    group, version = obj["apiVersion"].split("/")
    return (group, version, PLURALS[obj["kind"]])


def resource_group(
    k8s: KubeApi, namespace: str, name: str = "aso-sample-rg", location: str = "westus2"
) -> None:
    """The ResourceGroup the samples own (``aso-sample-rg``); its Azure name is unique per namespace."""
    ensure_namespace(k8s, namespace)
    body = {
        "apiVersion": "resources.azure.com/v1api20200601",
        "kind": "ResourceGroup",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"location": location, "azureName": f"{name}-{namespace}"},
    }
    create(k8s, body, plural="resourcegroups")


def apply(k8s: KubeApi, obj: Json) -> Json:
    """``kubectl apply`` with strict field validation: create, or merge-patch what is there."""
    group, version, plural = which(obj)
    namespace = obj["metadata"]["namespace"]
    existing = get(k8s, (group, version, plural), obj["metadata"]["name"], namespace)
    if existing is None:
        created: Json = k8s.custom.create_namespaced_custom_object(
            group, version, namespace, plural, obj, field_validation="Strict"
        )
        return created
    patched: Json = k8s.custom.patch_namespaced_custom_object(
        group, version, namespace, plural, obj["metadata"]["name"], obj, field_validation="Strict"
    )
    return patched


def redis(name: str, namespace: str, version: str = "v20241101", **spec: Any) -> Json:
    """A Premium P1 cache owned by ``aso-sample-rg`` (the samples' shape)."""
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "Redis",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "location": "westus2",
            "owner": {"name": "aso-sample-rg"},
            "sku": {"family": "P", "name": "Premium", "capacity": 1},
            "redisVersion": "6",
            **spec,
        },
    }


def wait_object_ready(k8s: KubeApi, obj: Json, timeout: float = 60) -> Json:
    metadata = obj["metadata"]
    return wait_ready(k8s, which(obj), metadata["name"], namespace=metadata["namespace"], timeout=timeout)


def arm_get(arm: ArmEmulatorHandle, arm_id: str) -> Json | None:
    return arm.control.get_resource(arm_id)


def secret_data(k8s: KubeApi, name: str, namespace: str) -> dict[str, str] | None:
    try:
        secret = k8s.core.read_namespaced_secret(name, namespace)
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


def slow_cache_writes(arm: ArmEmulatorHandle, polls: int = 8) -> None:
    """A cache create or update takes ``polls`` reads from now on (ARM's "201 + provisioningState"
    pattern, no operation headers), so writes meet a cache that is still busy."""
    arm.control.set_lro(
        "Microsoft.Cache/redis",
        "PUT",
        mode="async",
        polls=polls,
        headers=[],
        create_status=201,
        update_status=200,
    )
