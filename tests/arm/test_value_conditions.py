"""Value rules that hold only for some bodies (``when``) or read the parent (``of_parent``):
combinations a provider refuses, and children a parent's settings do not support."""

from __future__ import annotations

from typing import Any

import pytest

from aso import ArmProfile, ArmValueRule
from aso.testing.arm import ArmEmulatorHandle, ArmHttp

STORAGE = "2023-01-01"


@pytest.fixture
def rg(arm_emulator: ArmEmulatorHandle) -> str:
    group = arm_emulator.resource_client().resource_groups.create_or_update("values", {"location": "westus2"})
    return str(group.id)


def _account(arm_http: ArmHttp, rg: str, name: str, kind: str, sku: str) -> Any:
    body = {"location": "westus2", "kind": kind, "sku": {"name": sku}}
    return arm_http.call("PUT", f"{rg}/providers/Microsoft.Storage/storageAccounts/{name}", STORAGE, body)


@pytest.mark.parametrize(
    ("kind", "sku"),
    [("BlockBlobStorage", "Standard_LRS"), ("FileStorage", "Standard_GRS"), ("BlobStorage", "Standard_ZRS")],
)
def test_storage_refuses_a_kind_with_a_sku_it_does_not_take(
    arm_http: ArmHttp, rg: str, arm_emulator: ArmEmulatorHandle, kind: str, sku: str
) -> None:
    refused = _account(arm_http, rg, "combo0001", kind, sku)
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "InvalidValuesForRequestParameters",
        "message": "Values for request parameters are invalid: kind, sku. "
        "For more information, see - https://aka.ms/storageaccounttypes",
    }
    assert arm_emulator.control.resources("Microsoft.Storage/storageAccounts") == []


def test_premium_accounts_have_their_tier_and_only_the_services_they_support(
    arm_http: ArmHttp, rg: str
) -> None:
    assert _account(arm_http, rg, "blockblob0001", "BlockBlobStorage", "Premium_LRS").status_code == 202
    assert _account(arm_http, rg, "pageblob0001", "StorageV2", "Premium_LRS").status_code == 202
    assert _account(arm_http, rg, "files0001", "FileStorage", "Premium_ZRS").status_code == 202
    assert _account(arm_http, rg, "standard0001", "StorageV2", "Standard_LRS").status_code == 202
    accounts = f"{rg}/providers/Microsoft.Storage/storageAccounts"
    got = arm_http.call("GET", f"{accounts}/pageblob0001", STORAGE).json()
    assert got["sku"] == {"name": "Premium_LRS", "tier": "Premium"}
    assert arm_http.call("GET", f"{accounts}/standard0001", STORAGE).json()["sku"]["tier"] == "Standard"

    for account in ("blockblob0001", "pageblob0001", "files0001"):
        queues = arm_http.call(
            "PUT", f"{accounts}/{account}/queueServices/default", STORAGE, {"properties": {}}
        )
        assert queues.status_code == 400, account
        assert queues.json()["error"] == {
            "code": "FeatureNotSupportedForAccount",
            "message": "Queue is not supported for the account.",
        }
    blobs = arm_http.call("PUT", f"{accounts}/files0001/blobServices/default", STORAGE, {"properties": {}})
    assert blobs.json()["error"]["code"] == "FeatureNotSupportedForAccount"
    assert arm_http.call("GET", f"{accounts}/files0001/blobServices/default", STORAGE).status_code == 404
    for account in ("blockblob0001", "pageblob0001"):
        made = arm_http.call("PUT", f"{accounts}/{account}/blobServices/default", STORAGE, {"properties": {}})
        assert made.status_code in (200, 201), account
    made = arm_http.call("PUT", f"{accounts}/standard0001/queueServices/default", STORAGE, {"properties": {}})
    assert made.status_code in (200, 201)


def test_conditions_are_profile_data_checked_at_load(arm_emulator_factory: Any) -> None:
    rule = ArmValueRule(path="properties.size", when={"properties.tier": ("basic",)}, allowed=("small",))
    assert rule.applies({"properties": {"tier": "Basic"}})
    assert not rule.applies({"properties": {"tier": "premium"}})
    assert not rule.applies({})
    bad = ArmValueRule(path="properties.size", when={"properties.tier": ()})
    assert bad.problems() == ["when['properties.tier']: expected a non-empty tuple of values"]
    assert ArmProfile(type="Contoso.Widgets/gadgets", values=(bad,)).problems() == [
        "values[0].when['properties.tier']: expected a non-empty tuple of values"
    ]

    arm = arm_emulator_factory(
        profiles=[
            {
                "type": "Contoso.Widgets/gadgets",
                "values": [
                    {"path": "properties.size", "when": {"properties.tier": ["basic"]}, "allowed": ["small"]}
                ],
            }
        ]
    )
    arm_http = ArmHttp(arm)
    group = arm.resource_client().resource_groups.create_or_update("g", {"location": "westus2"}).id
    gadgets = f"{group}/providers/Contoso.Widgets/gadgets"
    body = {"properties": {"tier": "Basic", "size": "large"}}
    refused = arm_http.call("PUT", f"{gadgets}/a", "2024-01-01", body)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "InvalidValuesForRequestParameters"
    made = arm_http.call(
        "PUT", f"{gadgets}/b", "2024-01-01", {"properties": {"tier": "premium", "size": "large"}}
    )
    assert made.status_code in (200, 201)


def test_a_legacy_blob_account_has_blob_and_table_endpoints_only(arm_http: ArmHttp, rg: str) -> None:
    assert _account(arm_http, rg, "legacyblob0001", "BlobStorage", "Standard_RAGRS").status_code == 202
    got = arm_http.call(
        "GET", f"{rg}/providers/Microsoft.Storage/storageAccounts/legacyblob0001", STORAGE
    ).json()
    assert sorted(got["properties"]["primaryEndpoints"]) == ["blob", "dfs", "table"]


def test_a_different_write_while_the_account_is_created_gets_storages_conflict(
    arm_http: ArmHttp, rg: str
) -> None:
    assert _account(arm_http, rg, "busyacct0001", "StorageV2", "Standard_LRS").status_code == 202
    busy = _account(arm_http, rg, "busyacct0001", "StorageV2", "Standard_GRS")
    assert busy.status_code == 409
    assert busy.json()["error"] == {
        "code": "StorageAccountOperationInProgress",
        "message": "An operation is currently performing on this storage account that requires "
        "exclusive access.",
    }
