"""Every ASO v2 sample of cache.azure.com applies unchanged (strict validation) and reaches Ready.

Each sample directory gets a namespace of its own (the samples of one directory share names such
as ``sampleredis1`` with the others), holding the ``aso-sample-rg`` ResourceGroup the samples own
(under an Azure name unique to the namespace). ``refs/`` samples are applied in their directory's
namespace, as the objects next to them refer to them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from redis_helpers import SAMPLES_DIR, Json, apply, resource_group, wait_object_ready, which

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess

pytestmark = pytest.mark.timeout(180)


def _samples() -> list[tuple[str, Path]]:
    """(namespace, file) for every sample, caches before their children."""
    found: list[tuple[str, Path]] = []
    for path in sorted(SAMPLES_DIR.rglob("*.yaml")):
        directory = path.parent.parent if path.parent.name == "refs" else path.parent
        found.append((directory.name, path))
    order = {"Redis": 0, "RedisFirewallRule": 1, "RedisPatchSchedule": 1, "RedisLinkedServer": 2}
    return sorted(found, key=lambda item: (order[yaml.safe_load(item[1].read_text())["kind"]], str(item[1])))


def test_samples_are_there() -> None:
    assert len(_samples()) >= 18, f"the cache samples are expected under {SAMPLES_DIR}"


def test_every_sample_applies_unchanged_and_becomes_ready(
    kube_api: KubeApi, arm_emulator: ArmEmulatorHandle, running_operator: OperatorProcess
) -> None:
    samples = _samples()
    for namespace in sorted({ns for ns, _ in samples}):
        resource_group(kube_api, namespace)
    applied: list[tuple[Path, Json]] = []
    started = time.monotonic()
    for namespace, path in samples:
        obj = yaml.safe_load(path.read_text())
        obj["metadata"]["namespace"] = namespace
        apply(kube_api, obj)
        applied.append((path, obj))
    results: list[str] = []
    for path, obj in applied:
        ready = wait_object_ready(kube_api, obj, timeout=120)
        # The object written last under a name is the one that must be Ready (two patch-schedule
        # samples of v1api/ share a name: the second is an update of the first).
        assert ready["status"]["id"]
        seconds = time.monotonic() - started
        results.append(f"{path.relative_to(SAMPLES_DIR)}: Ready ({which(obj)[1]}, {seconds:.1f}s)")
    print("\n" + "\n".join(results))
    caches = arm_emulator.control.resources("Microsoft.Cache/redis")
    assert len(caches) == len([o for _, o in applied if o["kind"] == "Redis"])
    for cache in caches:
        assert cache["body"]["properties"]["provisioningState"] == "Succeeded"
        assert cache["body"]["properties"]["sku"] == {"family": "P", "name": "Premium", "capacity": 1}
    schedules = arm_emulator.control.resources("Microsoft.Cache/redis/patchSchedules")
    assert {s["id"].rsplit("/", 1)[-1] for s in schedules} == {"default"}
    rules = arm_emulator.control.resources("Microsoft.Cache/redis/firewallRules")
    assert rules
    assert all(r["body"]["properties"]["startIP"] == "1.2.3.4" for r in rules)
