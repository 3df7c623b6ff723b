"""50 caches being created do not slow other objects down.

A cache create is long in Azure: the operator starts it, records the operation and polls it later
(ARM's Retry-After), never holding a worker meanwhile. The emulator here answers Retry-After 1 s
and a create takes 8 reads of the cache; ResourceGroups created once the 50 creates are running
must be Ready while the caches are still being created.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis_helpers import RG, apply, redis, resource_group, slow_cache_writes, which

from aso.testing import (
    ArmEmulatorHandle,
    ConversionWebhook,
    KubeApi,
    OperatorProcess,
    create,
    is_ready,
    wait_for,
    wait_ready,
)

pytestmark = pytest.mark.timeout(150)

NS = "many"
CACHES = 50


@pytest.fixture
def slow_arm(arm_emulator_factory: Callable[..., ArmEmulatorHandle]) -> ArmEmulatorHandle:
    """An emulator answering Retry-After 1 s, where a cache create takes 8 reads."""
    arm = arm_emulator_factory(retry_after=1)
    slow_cache_writes(arm)
    return arm


@pytest.fixture
def operator_on_slow_arm(
    kube_api: KubeApi, slow_arm: ArmEmulatorHandle, tmp_path: Path, conversion_webhook: ConversionWebhook
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(kube=kube_api, arm=slow_arm, workdir=tmp_path, webhook=conversion_webhook)
    try:
        yield process.start()
    finally:
        process.stop()


def _states(arm: ArmEmulatorHandle) -> list[str]:
    return [
        c["body"]["properties"]["provisioningState"] for c in arm.control.resources("Microsoft.Cache/redis")
    ]


def test_fifty_caches_being_created_do_not_slow_other_objects(
    kube_api: KubeApi, slow_arm: ArmEmulatorHandle, operator_on_slow_arm: OperatorProcess
) -> None:
    resource_group(kube_api, NS)
    wait_ready(kube_api, RG, "aso-sample-rg", namespace=NS, timeout=30)
    caches = [redis(f"cache-{i:02d}", NS, "v20241101") for i in range(CACHES)]
    for cache in caches:
        apply(kube_api, cache)
    wait_for(
        lambda: len(_states(slow_arm)) == CACHES and set(_states(slow_arm)) == {"Creating"},
        timeout=60,
        what=f"{CACHES} cache creates running in Azure",
    )

    started = time.monotonic()
    later = [f"later-{i}" for i in range(5)]
    for name in later:
        body = {
            "apiVersion": "resources.azure.com/v1api20200601",
            "kind": "ResourceGroup",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"location": "westus2"},
        }
        create(kube_api, body, plural="resourcegroups")
    for name in later:
        wait_ready(kube_api, RG, name, namespace=NS, timeout=30)
    groups_ready = time.monotonic() - started
    # Every group is Ready, and the caches are still being created.
    still_creating = _states(slow_arm).count("Creating")
    ready_caches = [
        c
        for c in caches
        if is_ready(
            kube_api.custom.get_namespaced_custom_object(*which(c)[:2], NS, "redis", c["metadata"]["name"])
        )
    ]
    assert still_creating == CACHES, f"only {still_creating} of {CACHES} caches were still creating"
    assert ready_caches == []

    for cache in caches:
        wait_ready(kube_api, which(cache), cache["metadata"]["name"], namespace=NS, timeout=90)
    assert set(_states(slow_arm)) == {"Succeeded"}
    caches_ready = time.monotonic() - started
    print(
        f"\n5 ResourceGroups Ready {groups_ready:.1f}s after the 50 cache creates started; "
        f"the caches Ready {caches_ready:.1f}s"
    )
