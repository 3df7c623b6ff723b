"""Resource groups and generic resources through the real azure-mgmt-resource client."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.resource.resources import ResourceManagementClient

from aso.testing.arm import ArmEmulatorHandle

from .conftest import API, WIDGETS, error_code, props, unique


def test_resource_group_round_trip(rm: ResourceManagementClient, arm_emulator: ArmEmulatorHandle) -> None:
    name = unique("MyGroup")
    created = rm.resource_groups.create_or_update(name, {"location": "westus2", "tags": {"a": "1"}})
    assert created.id == f"/subscriptions/{arm_emulator.subscription_id}/resourceGroups/{name}"
    assert created.properties is not None
    assert created.properties.provisioning_state == "Succeeded"
    # ARM ids are case-insensitive; the casing of the creating PUT is kept.
    got = rm.resource_groups.get(name.upper())
    assert got.name == name
    assert got.tags == {"a": "1"}
    updated = rm.resource_groups.update(name.lower(), {"tags": {"b": "2"}})
    assert updated.tags == {"b": "2"}
    replaced = rm.resource_groups.create_or_update(name.lower(), {"location": "westus2"})
    assert (replaced.id, replaced.name, replaced.tags) == (created.id, name, None)
    assert name in [g.name for g in rm.resource_groups.list()]
    assert rm.resource_groups.check_existence(name) is True
    rm.resource_groups.begin_delete(name).result()
    assert rm.resource_groups.check_existence(name) is False
    with pytest.raises(ResourceNotFoundError) as info:
        rm.resource_groups.get(name)
    assert error_code(info.value) == "ResourceGroupNotFound"


def test_resource_group_location_is_immutable(rm: ResourceManagementClient) -> None:
    name = unique("rg")
    rm.resource_groups.create_or_update(name, {"location": "westus2"})
    with pytest.raises(HttpResponseError) as info:
        rm.resource_groups.create_or_update(name, {"location": "eastus"})
    assert info.value.status_code == 409
    assert error_code(info.value) == "InvalidResourceGroupLocation"


def test_generic_resource_by_id(rm: ResourceManagementClient, rg: str) -> None:
    wid = f"{rg}/providers/{WIDGETS}/Widget1"
    body = {"location": "westus2", "properties": {"size": 3}, "tags": {"t": "v"}}
    created = rm.resources.begin_create_or_update_by_id(wid, body, api_version=API).result()
    assert created.id == wid
    assert created.type == WIDGETS
    assert props(created) == {"size": 3}  # echoed, no invented provisioningState
    got = rm.resources.get_by_id(wid.lower(), api_version=API)
    assert got.id == wid  # casing of the creating PUT
    patched = rm.resources.begin_update_by_id(
        wid, {"properties": {"colour": "red"}}, api_version=API
    ).result()
    assert props(patched)["colour"] == "red"
    assert props(patched)["size"] == 3
    assert [r.id for r in rm.resources.list_by_resource_group(rg.rsplit("/", 1)[1])] == [wid]
    assert rm.resources.check_existence_by_id(wid, api_version=API) is True
    rm.resources.begin_delete_by_id(wid, api_version=API).result()
    with pytest.raises(ResourceNotFoundError) as info:
        rm.resources.get_by_id(wid, api_version=API)
    assert error_code(info.value) == "ResourceNotFound"


def test_children_need_parents(
    rm: ResourceManagementClient, rg: str, arm_emulator: ArmEmulatorHandle
) -> None:
    parent = f"{rg}/providers/{WIDGETS}/p1"
    child = f"{parent}/gears/g1"
    with pytest.raises(ResourceNotFoundError) as info:
        rm.resources.begin_create_or_update_by_id(child, {"properties": {}}, api_version=API).result()
    assert error_code(info.value) == "ParentResourceNotFound"
    missing_rg = f"/subscriptions/{arm_emulator.subscription_id}/resourceGroups/nope/providers/{WIDGETS}/w"
    with pytest.raises(ResourceNotFoundError) as info:
        rm.resources.get_by_id(missing_rg, api_version=API)
    assert error_code(info.value) == "ResourceGroupNotFound"
    rm.resources.begin_create_or_update_by_id(parent, {"properties": {}}, api_version=API).result()
    made = rm.resources.begin_create_or_update_by_id(
        child, {"properties": {"teeth": 9}}, api_version=API
    ).result()
    assert made.type == f"{WIDGETS}/gears"
    # Deleting the parent deletes the child.
    rm.resources.begin_delete_by_id(parent, api_version=API).result()
    assert arm_emulator.control.get_resource(child) is None


def test_resource_group_delete_cascades(
    rm: ResourceManagementClient, rg: str, arm_emulator: ArmEmulatorHandle
) -> None:
    name = rg.rsplit("/", 1)[1]
    for i in range(3):
        rm.resources.begin_create_or_update_by_id(
            f"{rg}/providers/{WIDGETS}/w{i}", {"properties": {}}, api_version=API
        ).result()
    arm_emulator.control.set_lro("Microsoft.Resources/resourceGroups", "DELETE", delay=0.5)
    poller = rm.resource_groups.begin_delete(name)
    # Asynchronous: the group is still there (Deleting) until the operation is polled to its end.
    deleting = rm.resource_groups.get(name).properties
    assert deleting is not None
    assert deleting.provisioning_state == "Deleting"
    poller.result()
    assert arm_emulator.control.resources(WIDGETS) == []
    with pytest.raises(ResourceNotFoundError):
        rm.resources.get_by_id(f"{rg}/providers/{WIDGETS}/w0", api_version=API)
