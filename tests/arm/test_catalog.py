"""Routes a real client needs besides resources: cloud metadata, regions, providers, name checks."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from azure.mgmt.resource.resources import ResourceManagementClient

from aso.testing.arm import ArmEmulatorHandle, ArmHttp

from .conftest import unique


@pytest.fixture
def http(arm_emulator: ArmEmulatorHandle) -> requests.Session:
    return ArmHttp(arm_emulator).session


def test_cloud_metadata_needs_no_token(arm_emulator: ArmEmulatorHandle) -> None:
    old = requests.get(
        f"{arm_emulator.endpoint}/metadata/endpoints?api-version=2015-01-01",
        verify=arm_emulator.ca_bundle,
        timeout=10,
    )
    assert old.status_code == 200
    doc: dict[str, Any] = old.json()
    assert doc["authentication"]["loginEndpoint"] == f"{arm_emulator.endpoint}/"
    assert doc["authentication"]["audiences"][0] == f"{arm_emulator.endpoint}/"
    new = requests.get(
        f"{arm_emulator.endpoint}/metadata/endpoints?api-version=2022-09-01",
        verify=arm_emulator.ca_bundle,
        timeout=10,
    )
    cloud = new.json()  # what `az cloud register` reads: one cloud object
    assert cloud["authentication"]["loginEndpoint"] == f"{arm_emulator.endpoint}/"
    assert cloud["resourceManager"] == f"{arm_emulator.endpoint}/"
    assert cloud["suffixes"]["storage"] == "core.windows.net"


def test_locations_are_the_regions_the_emulator_accepts(
    arm_emulator: ArmEmulatorHandle, http: requests.Session
) -> None:
    sub = arm_emulator.subscription_id
    answer = http.get(
        f"{arm_emulator.endpoint}/subscriptions/{sub}/locations?api-version=2022-12-01", timeout=10
    )
    assert answer.status_code == 200
    by_name = {loc["name"]: loc for loc in answer.json()["value"]}
    assert by_name["westus2"]["displayName"] == "West US 2"
    assert by_name["westus2"]["id"] == f"/subscriptions/{sub}/locations/westus2"


def test_providers_list_the_profiled_namespaces(
    arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient
) -> None:
    namespaces = {p.namespace: p for p in rm.providers.list()}
    assert {"Microsoft.Storage", "Microsoft.Cache", "Microsoft.Sql", "Microsoft.DocumentDB"} <= set(
        namespaces
    )
    storage = rm.providers.get("Microsoft.Storage")
    assert storage.registration_state == "Registered"
    assert "storageAccounts" in {t.resource_type for t in storage.resource_types or []}


def test_storage_check_name_availability(
    arm_emulator: ArmEmulatorHandle, http: requests.Session, rg: str
) -> None:
    sub = arm_emulator.subscription_id
    url = f"{arm_emulator.endpoint}/subscriptions/{sub}/providers/Microsoft.Storage/checkNameAvailability"
    query = "?api-version=2023-01-01"
    name = unique("st").replace("-", "")
    ask = {"name": name, "type": "Microsoft.Storage/storageAccounts"}
    assert http.post(url + query, json=ask, timeout=10).json() == {"nameAvailable": True}
    bad = http.post(url + query, json={**ask, "name": "Not-Valid"}, timeout=10).json()
    assert bad["nameAvailable"] is False
    assert bad["reason"] == "AccountNameInvalid"
    created = http.put(
        f"{arm_emulator.endpoint}{rg}/providers/Microsoft.Storage/storageAccounts/{name}{query}",
        json={"location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
        timeout=10,
    )
    assert created.status_code in (200, 202)
    taken = http.post(url + query, json=ask, timeout=10).json()
    assert taken["nameAvailable"] is False
    assert taken["reason"] == "AlreadyExists"
