"""ASO's rule: azureName (and owner) may change until the resource has been created in Azure, so a
spec whose name Azure refused can be fixed in place; once created, they are immutable."""

from __future__ import annotations

import pytest
from aso_testkinds.objects import RG, resource_group

from aso.testing import OperatorProcess, create, get, wait_ready
from aso.testing.arm import ArmEmulatorHandle
from aso.testing.kube import KubeApi

pytestmark = pytest.mark.timeout(90)


def _patch(k8s: KubeApi, name: str, spec: dict[str, str]) -> None:
    k8s.custom.patch_namespaced_custom_object(*RG[:2], "default", RG[2], name, {"spec": spec})


def test_a_refused_name_can_be_fixed_in_place_and_a_created_one_cannot_move(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, running_operator: OperatorProcess
) -> None:
    control = arm_emulator.control
    control.fail_next_operation(
        "Microsoft.Resources/resourceGroups", "NameTaken", "The name is taken.", method="PUT", count=100
    )
    create(k8s, resource_group("rg-first", azureName="rg-taken"))
    wait_ready(k8s, RG, "rg-first", status="False", reason="NameTaken")
    control.reset()  # Azure accepts the next write

    _patch(k8s, "rg-first", {"azureName": "rg-free"})
    obj = wait_ready(k8s, RG, "rg-first", timeout=40)
    assert obj["status"]["id"].endswith("/resourceGroups/rg-free")
    prefix = f"/subscriptions/{arm_emulator.subscription_id}/resourceGroups"
    assert control.get_resource(f"{prefix}/rg-taken") is None

    # Created now: the name is fixed for good, and nothing is made at the new one.
    _patch(k8s, "rg-first", {"azureName": "rg-elsewhere"})
    wait_ready(k8s, RG, "rg-first", status="False", reason="ImmutableFieldChanged")
    assert control.get_resource(f"{prefix}/rg-elsewhere") is None
    assert get(k8s, RG, "rg-first") is not None
