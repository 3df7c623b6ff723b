"""Long-running operations end to end (issue: the reconciler, reshaped for long operations).

A create that runs in Azure shows ``Reconciling`` (severity Info, the operation's kind in the
message), is polled at ARM's Retry-After without a write to the object per poll, and holds no
concurrency slot while it waits: other objects go on. The test emulator answers Retry-After 0
(polled after the operator's floor of 0.5 s); an operation whose answers carry no Retry-After is
polled at the operator's default interval.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from aso_testkinds.objects import RG, WIDGET, resource_group, widget

from aso.testing import OperatorProcess, create, get, ready_condition, wait_ready
from aso.testing.arm import ArmEmulatorHandle
from aso.testing.kube import KubeApi, wait_for

pytestmark = pytest.mark.timeout(180)

WIDGETS = "microsoft.asotest/widgets"


def _polls(arm: ArmEmulatorHandle) -> int:
    return sum(c for t, c in arm.control.counts().by_method.get("GET", {}).items() if "operation" in t)


def _reconciling(k8s: KubeApi, name: str) -> dict[str, Any] | None:
    """The object while its create runs in Azure."""
    obj = get(k8s, WIDGET, name)
    condition = (ready_condition(obj) if obj else None) or {}
    creating = str(condition.get("message", "")).startswith("Creating: waiting for the PUT of ")
    return obj if condition.get("reason") == "Reconciling" and creating else None


def test_a_running_create_is_reconciling_and_polled_without_writes(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    control = arm_emulator.control
    aso_operator.start()
    create(k8s, resource_group("rg-long"))
    wait_ready(k8s, RG, "rg-long")
    control.set_lro(WIDGETS, "PUT", mode="async", polls=4, retry_after=1)
    create(k8s, widget("w-long", owner="rg-long"))

    obj = wait_for(lambda: _reconciling(k8s, "w-long"), timeout=30)
    condition = ready_condition(obj)
    assert condition["status"] == "False"
    assert condition["severity"] == "Info"
    version = obj["metadata"]["resourceVersion"]
    polls = _polls(arm_emulator)
    # Two more polls while it still runs: the object is not written for them.
    wait_for(lambda: _polls(arm_emulator) >= polls + 2, timeout=30)
    still = _reconciling(k8s, "w-long")
    if still is not None:  # (it may have finished on the second poll)
        assert still["metadata"]["resourceVersion"] == version

    done = wait_ready(k8s, WIDGET, "w-long", timeout=60)
    assert "aso.dev/operation" not in done["metadata"]["annotations"]
    counts = control.counts()
    assert counts.get("PUT", WIDGETS) == 1
    assert _polls(arm_emulator) >= 4


def test_long_creates_hold_no_slot(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    """Two slots, eight creates that run for a minute: a group created after them is Ready while
    every one of them is still running (a handler that waited would hold both slots)."""
    control = arm_emulator.control
    aso_operator.env["MAX_CONCURRENT_RECONCILES"] = "2"
    aso_operator.start()
    create(k8s, resource_group("rg-slots"))
    wait_ready(k8s, RG, "rg-slots")
    control.set_lro(WIDGETS, "PUT", mode="async", polls=1, delay=60, retry_after=1)
    names = [f"w-slow-{i}" for i in range(8)]
    for name in names:
        create(k8s, widget(name, owner="rg-slots"))
    wait_for(lambda: all(_reconciling(k8s, name) for name in names), timeout=60)

    create(k8s, resource_group("rg-after"))
    wait_ready(k8s, RG, "rg-after", timeout=30)
    assert all(_reconciling(k8s, name) for name in names)
    assert control.counts().get("PUT", WIDGETS) == len(names)


def test_an_operation_without_retry_after_is_polled_at_the_default_interval(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    control = arm_emulator.control
    aso_operator.env["ASO_RETRY_MAX_DELAY"] = "30"  # the kit's 2 s cap would hide the default
    aso_operator.start()
    create(k8s, resource_group("rg-quiet"))
    wait_ready(k8s, RG, "rg-quiet")
    control.set_lro(WIDGETS, "PUT", mode="async", polls=2, retry_after=None)
    create(k8s, widget("w-quiet", owner="rg-quiet"))
    wait_for(lambda: _reconciling(k8s, "w-quiet"), timeout=30)
    polls = _polls(arm_emulator)
    wait_for(lambda: _polls(arm_emulator) >= polls + 1, timeout=30)
    first = time.monotonic()
    wait_for(lambda: _polls(arm_emulator) >= polls + 2, timeout=30)
    # The operator's default interval is 5 s (not the 0.5 s floor of a Retry-After of 0).
    assert time.monotonic() - first >= 2.5
    wait_ready(k8s, WIDGET, "w-quiet", timeout=60)
    assert control.counts().get("PUT", WIDGETS) == 1
