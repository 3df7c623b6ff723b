"""Id parsing (unit) and the list/collection routes (over the wire)."""

from __future__ import annotations

import pytest
from azure.mgmt.resource.resources import ResourceManagementClient

from aso.sandbox.arm.ids import parse
from aso.testing.arm import ArmEmulatorHandle, ArmHttp, ControlApiError

from .conftest import API, WIDGETS, unique

SUB = "/subscriptions/s1"


def test_parse_nested_and_extension_ids() -> None:
    p = parse(f"{SUB}/resourcegroups/RG/providers/Microsoft.Storage/storageAccounts/a/blobServices/default")
    assert p is not None
    assert p.is_resource
    assert p.full_type == "Microsoft.Storage/storageAccounts/blobServices"
    assert (
        p.id == f"{SUB}/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/a/blobServices/default"
    )
    assert p.parent_id == f"{SUB}/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/a"
    ext = parse(
        f"{SUB}/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/a/providers/Microsoft.Authorization/roleAssignments/r1"
    )
    assert ext is not None
    assert ext.full_type == "Microsoft.Authorization/roleAssignments"
    assert ext.parent_id == f"{SUB}/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/a"
    collection = parse(f"{SUB}/resourceGroups/RG/providers/Microsoft.Cache/redis/c1/firewallRules")
    assert collection is not None
    assert not collection.is_resource
    assert collection.trailing == "firewallRules"
    assert collection.full_type == "Microsoft.Cache/redis/firewallRules"
    assert parse("/providers/Microsoft.Foo/bar") is None
    group = parse(f"{SUB}/resourcegroups/My%20RG")
    assert group is not None
    assert group.is_resource_group
    assert group.resource_group == "My RG"


def test_lists_and_head(arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient, rg: str) -> None:
    other = rm.resource_groups.create_or_update(unique("rg2"), {"location": "westus2"}).id
    for group, name in ((rg, "a"), (rg, "b"), (other, "c")):
        rm.resources.begin_create_or_update_by_id(
            f"{group}/providers/{WIDGETS}/{name}", {}, api_version=API
        ).result()
    rm.resources.begin_create_or_update_by_id(
        f"{rg}/providers/{WIDGETS}/a/gears/g", {}, api_version=API
    ).result()
    session = ArmHttp(arm_emulator).session

    def names(path: str) -> list[str]:
        resp = session.get(f"{arm_emulator.endpoint}{path}?api-version={API}", timeout=10)
        assert resp.status_code == 200, resp.text
        return sorted(v["name"] for v in resp.json()["value"])

    sub = f"/subscriptions/{arm_emulator.subscription_id}"
    assert names(f"{sub}/providers/{WIDGETS}") == ["a", "b", "c"]
    assert names(f"{rg}/providers/{WIDGETS}") == ["a", "b"]
    assert names(f"{rg}/providers/{WIDGETS}/a/gears") == ["g"]
    assert names(f"{rg}/resources") == ["a", "b"]  # top-level resources only
    assert len(names(f"{sub}/resourcegroups")) == 2
    head = session.head(f"{arm_emulator.endpoint}{rg}/providers/{WIDGETS}/a?api-version={API}", timeout=10)
    assert head.status_code == 204
    missing = session.head(
        f"{arm_emulator.endpoint}{rg}/providers/{WIDGETS}/zz?api-version={API}", timeout=10
    )
    assert missing.status_code == 404
    subscription = session.get(f"{arm_emulator.endpoint}{sub}?api-version=2022-12-01", timeout=10).json()
    assert subscription["subscriptionId"] == arm_emulator.subscription_id
    assert subscription["state"] == "Enabled"


def test_control_api_rejects_bad_requests(arm_emulator: ArmEmulatorHandle) -> None:
    with pytest.raises(ControlApiError) as info:
        arm_emulator.control.inject_fault(action="explode")
    assert info.value.status == 400
    with pytest.raises(ControlApiError):
        arm_emulator.control.set_lro(WIDGETS, "GET", mode="async")
    assert arm_emulator.control.get_resource(f"/subscriptions/{arm_emulator.subscription_id}/nothing") is None
