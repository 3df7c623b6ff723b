"""What ASO v2's Test_AzureName_IsImmutable_IfAzureHasBeenCommunicatedWith recorded of real Azure
(API 2021-04-01): Storage refuses an account name outside its rule with its own code and message,
and deleting an account that does not exist answers 204."""

from __future__ import annotations

import pytest

from aso.testing.arm import ArmEmulatorHandle, ArmHttp

API = "2021-04-01"


@pytest.fixture
def group(arm_emulator: ArmEmulatorHandle) -> str:
    return str(
        arm_emulator.resource_client().resource_groups.create_or_update("names", {"location": "westus2"}).id
    )


def test_an_invalid_account_name_is_refused_with_storages_message(
    arm_http: ArmHttp, group: str, arm_emulator: ArmEmulatorHandle
) -> None:
    name = "==--039+"
    account = f"{group}/providers/Microsoft.Storage/storageAccounts/{name}"
    body = {
        "kind": "BlobStorage",
        "location": "westus2",
        "properties": {"accessTier": "Hot"},
        "sku": {"name": "Standard_LRS"},
    }
    refused = arm_http.call("PUT", account, API, body)
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "AccountNameInvalid",
        "message": f"{name} is not a valid storage account name. Storage account name must be between "
        "3 and 24 characters in length and use numbers and lower-case letters only.",
    }
    assert arm_emulator.control.resources("Microsoft.Storage/storageAccounts") == []
    # Deleting what was never made is no error; reading it is a 404.
    assert arm_http.call("DELETE", account, API).status_code == 204
    missing = arm_http.call("GET", account, API)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "ResourceNotFound")
