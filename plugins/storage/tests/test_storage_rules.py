"""Storage's service rules end to end: exports and key rotation, no write without a change, drift,
clear errors that a fixed spec recovers from, owners, api-versions, and deleting an account with
everything in it. Real emulator, API server and operator; every wait is on a state."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.request
from typing import Any

import pytest

from aso.testing import (
    ArmEmulatorHandle,
    KubeApi,
    OperatorProcess,
    create,
    get,
    ready_condition,
    wait_for,
    wait_ready,
)

pytestmark = pytest.mark.timeout(120)

GROUP = "storage.azure.com"
VERSION = "v1api20230101"
RG = ("resources.azure.com", "v1api20200601", "resourcegroups")
ACCOUNTS = (GROUP, VERSION, "storageaccounts")
BLOB_SERVICES = (GROUP, VERSION, "storageaccountsblobservices")
CONTAINERS = (GROUP, VERSION, "storageaccountsblobservicescontainers")
QUEUE_SERVICES = (GROUP, VERSION, "storageaccountsqueueservices")
QUEUES = (GROUP, VERSION, "storageaccountsqueueservicesqueues")
POLICIES = (GROUP, VERSION, "storageaccountsmanagementpolicies")
ARM_TYPES = {
    ACCOUNTS: "microsoft.storage/storageaccounts",
    BLOB_SERVICES: "microsoft.storage/storageaccounts/blobservices",
    CONTAINERS: "microsoft.storage/storageaccounts/blobservices/containers",
    QUEUE_SERVICES: "microsoft.storage/storageaccounts/queueservices",
    QUEUES: "microsoft.storage/storageaccounts/queueservices/queues",
    POLICIES: "microsoft.storage/storageaccounts/managementpolicies",
}
KIND_OF = {
    ACCOUNTS: "StorageAccount",
    BLOB_SERVICES: "StorageAccountsBlobService",
    CONTAINERS: "StorageAccountsBlobServicesContainer",
    QUEUE_SERVICES: "StorageAccountsQueueService",
    QUEUES: "StorageAccountsQueueServicesQueue",
    POLICIES: "StorageAccountsManagementPolicy",
}
ENDPOINTS = ("blob", "queue", "table", "file", "web", "dfs")
POLICY = {
    "rules": [
        {
            "name": "expire",
            "enabled": True,
            "type": "Lifecycle",
            "definition": {
                "actions": {"baseBlob": {"delete": {"daysAfterModificationGreaterThan": 90}}},
                "filters": {"blobTypes": ["blockBlob"]},
            },
        }
    ]
}


def obj(which: tuple[str, str, str], name: str, spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{which[0]}/{which[1]}",
        "kind": "ResourceGroup" if which == RG else KIND_OF[(GROUP, VERSION, which[2])],
        "metadata": {"name": name, "namespace": "default", **metadata},
        "spec": spec,
    }


def account(name: str, owner: dict[str, str], **spec: Any) -> dict[str, Any]:
    base = {"owner": owner, "location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}
    return obj(ACCOUNTS, name, {**base, **spec})


def create_tree(kube_api: KubeApi, prefix: str, account_spec: dict[str, Any] | None = None) -> list[Any]:
    """A resource group, an account and one object of every child kind; returns (which, name) pairs."""
    made = [
        (RG, f"{prefix}-rg", {"location": "westus2"}),
        (
            ACCOUNTS,
            f"{prefix}acct",
            account(f"{prefix}acct", {"name": f"{prefix}-rg"}, **(account_spec or {})),
        ),
        (BLOB_SERVICES, f"{prefix}-blobs", {"owner": {"name": f"{prefix}acct"}}),
        (CONTAINERS, f"{prefix}-container", {"owner": {"name": f"{prefix}-blobs"}, "publicAccess": "None"}),
        (QUEUE_SERVICES, f"{prefix}-queues", {"owner": {"name": f"{prefix}acct"}}),
        (QUEUES, f"{prefix}-queue", {"owner": {"name": f"{prefix}-queues"}, "metadata": {"team": "a"}}),
        (POLICIES, f"{prefix}-policy", {"owner": {"name": f"{prefix}acct"}, "policy": POLICY}),
    ]
    for which, name, spec in made:
        create(kube_api, spec if "apiVersion" in spec else obj(which, name, spec), plural=which[2])
    return [(which, name) for which, name, _ in made]


def post(arm: ArmEmulatorHandle, arm_id: str, action: str, body: Any = None) -> dict[str, Any]:
    """A POST action as any ARM client sends it, with a token of the default principal."""
    token = arm.credential().get_token(arm.scopes[0]).token
    request = urllib.request.Request(
        f"{arm.endpoint.rstrip('/')}{arm_id}/{action}?api-version=2023-01-01",
        method="POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    context = ssl.create_default_context(cafile=arm.ca_bundle)
    with urllib.request.urlopen(request, context=context, timeout=10) as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


def patch(kube_api: KubeApi, which: tuple[str, str, str], name: str, spec: dict[str, Any]) -> None:
    kube_api.custom.patch_namespaced_custom_object(*which[:2], "default", which[2], name, {"spec": spec})


def secret_value(kube_api: KubeApi, name: str, key: str) -> str | None:
    found = kube_api.core.list_namespaced_secret("default", field_selector=f"metadata.name={name}").items
    if not found or key not in (found[0].data or {}):
        return None
    return base64.b64decode(found[0].data[key]).decode()


def arm_body(arm: ArmEmulatorHandle, arm_id: str) -> dict[str, Any]:
    found = arm.control.get_resource(arm_id)
    assert found is not None, arm_id
    body: dict[str, Any] = found.get("body", found)
    return body


def test_exports_rotation_no_write_without_a_change_and_drift(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, aso_operator: OperatorProcess
) -> None:
    aso_operator.env["AZURE_SYNC_PERIOD"] = "2s"
    aso_operator.start()
    exports = {
        "secrets": {
            "key1": {"name": "keys", "key": "key1"},
            "key2": {"name": "keys", "key": "key2"},
            **{f"{e}Endpoint": {"name": "endpoints-secret", "key": e} for e in ENDPOINTS},
        },
        "configMaps": {f"{e}Endpoint": {"name": "endpoints", "key": e} for e in ENDPOINTS},
    }
    # Inputs from a ConfigMap and ARM references are resolved before they are sent.
    kube_api.core.create_namespaced_config_map(
        "default", {"metadata": {"name": "office"}, "data": {"range": "203.0.113.0/24"}}
    )
    network_group = f"/subscriptions/{arm_emulator.subscription_id}/resourceGroups/net"
    subnet = f"{network_group}/providers/Microsoft.Network/virtualNetworks/vn/subnets/s1"
    network = {
        "defaultAction": "Deny",
        "ipRules": [{"action": "Allow", "valueFromConfig": {"name": "office", "key": "range"}}],
        "virtualNetworkRules": [{"action": "Allow", "reference": {"armId": subnet}}],
    }
    spec = {"operatorSpec": exports, "minimumTlsVersion": "TLS1_2", "networkAcls": network}
    tree = create_tree(kube_api, "exp", spec)
    ids = {which: wait_ready(kube_api, which, name, timeout=60)["status"]["id"] for which, name in tree}
    account_id = ids[ACCOUNTS]
    acls = arm_body(arm_emulator, account_id)["properties"]["networkAcls"]
    assert acls["ipRules"] == [{"action": "Allow", "value": "203.0.113.0/24"}]
    assert acls["virtualNetworkRules"] == [{"action": "Allow", "id": subnet}]

    keys = post(arm_emulator, account_id, "listKeys")["keys"]
    assert secret_value(kube_api, "keys", "key1") == keys[0]["value"]
    assert secret_value(kube_api, "keys", "key2") == keys[1]["value"]
    config = kube_api.core.read_namespaced_config_map("endpoints", "default").data
    assert config == {e: f"https://expacct.{e}.core.windows.net/" for e in ENDPOINTS} | {
        "web": "https://expacct.z5.web.core.windows.net/"
    }
    assert secret_value(kube_api, "endpoints-secret", "blob") == "https://expacct.blob.core.windows.net/"
    status = get(kube_api, ACCOUNTS, "expacct")["status"]  # type: ignore[index]
    events = [e.message or "" for e in kube_api.core.list_namespaced_event("default").items]
    for key in keys:
        assert key["value"] not in json.dumps(status)
        assert key["value"] not in aso_operator.log()
        assert not [m for m in events if key["value"] in m]

    # Azure rotates key1: the Secret follows at the next sync.
    rotated = post(arm_emulator, account_id, "regenerateKey", {"keyName": "key1"})["keys"][0]["value"]
    assert rotated != keys[0]["value"]
    wait_for(lambda: secret_value(kube_api, "keys", "key1") == rotated, timeout=30, what="key1 re-exported")
    assert secret_value(kube_api, "keys", "key2") == keys[1]["value"]

    # Syncs with nothing changed read every kind and write none (Azure's defaults are no drift).
    arm_emulator.control.reset_counts()

    def every_kind_read_twice() -> bool:
        counts = arm_emulator.control.counts()
        return all(counts.get("GET", t) >= 2 for t in ARM_TYPES.values())

    wait_for(every_kind_read_twice, timeout=40, what="two syncs of every kind")
    counts = arm_emulator.control.counts()
    assert {t: counts.get("PUT", t) for t in ARM_TYPES.values()} == {t: 0 for t in ARM_TYPES.values()}
    assert counts.get("PATCH", ARM_TYPES[ACCOUNTS]) == 0

    # Drift made outside is put right at the next sync.
    arm_emulator.control.drift(account_id, {"properties": {"minimumTlsVersion": "TLS1_0"}})
    arm_emulator.control.drift(ids[CONTAINERS], {"properties": {"publicAccess": "Container"}})
    arm_emulator.control.drift(ids[QUEUES], {"properties": {"metadata": {"team": "b"}}})

    def put_right() -> bool:
        return (
            arm_body(arm_emulator, account_id)["properties"]["minimumTlsVersion"] == "TLS1_2"
            and arm_body(arm_emulator, ids[CONTAINERS])["properties"]["publicAccess"] == "None"
            and arm_body(arm_emulator, ids[QUEUES])["properties"]["metadata"] == {"team": "a"}
        )

    wait_for(put_right, timeout=30, what="drift corrected")


def test_deleting_the_account_removes_everything_in_it_and_every_object(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    tree = create_tree(kube_api, "del")
    for which, name in tree:
        wait_ready(kube_api, which, name, timeout=60)
    containers = "Microsoft.Storage/storageAccounts/blobServices/containers"
    assert len(arm_emulator.control.resources(containers)) == 1

    # A blob service has no DELETE in ARM: its object goes (and its container with it, in Azure
    # too), the service stays with its account.
    kube_api.custom.delete_namespaced_custom_object(
        *BLOB_SERVICES[:2], "default", BLOB_SERVICES[2], "del-blobs"
    )

    def service_objects_gone() -> bool:
        return (
            get(kube_api, BLOB_SERVICES, "del-blobs") is None
            and get(kube_api, CONTAINERS, "del-container") is None
        )

    wait_for(service_objects_gone, timeout=30, what="the blob service and container objects deleted")
    assert arm_emulator.control.resources(containers) == []
    assert len(arm_emulator.control.resources("Microsoft.Storage/storageAccounts/blobServices")) == 1
    assert arm_emulator.control.counts().get("DELETE", ARM_TYPES[BLOB_SERVICES]) == 0

    kube_api.custom.delete_namespaced_custom_object(*ACCOUNTS[:2], "default", ACCOUNTS[2], "delacct")

    def all_gone() -> bool:
        return all(get(kube_api, which, name) is None for which, name in tree[1:])

    wait_for(all_gone, timeout=60, what="the account and its children's objects deleted")
    storage = [r for r in arm_emulator.control.resources() if "/providers/Microsoft.Storage/" in r["id"]]
    assert storage == []
    assert get(kube_api, RG, "del-rg") is not None  # the group was not asked to go


def test_clear_errors_that_a_fixed_spec_recovers_from(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    create(kube_api, obj(RG, "err-rg", {"location": "westus2"}), plural=RG[2])
    owner = {"name": "err-rg"}

    # A name Storage cannot take: refused before any request, naming the rule.
    create(kube_api, account("bad-name", owner), plural=ACCOUNTS[2])
    failed = wait_ready(kube_api, ACCOUNTS, "bad-name", status="False", reason="InvalidResourceName")
    condition = ready_condition(failed)
    assert condition["severity"] == "Error"
    assert "lower-case letters and digits" in condition["message"]

    # A kind with a SKU it does not take: ARM's code and message.
    create(kube_api, account("errblockblob", owner, kind="BlockBlobStorage"), plural=ACCOUNTS[2])
    combo = "InvalidValuesForRequestParameters"
    condition = ready_condition(wait_ready(kube_api, ACCOUNTS, "errblockblob", status="False", reason=combo))
    assert condition["severity"] == "Error"
    assert condition["message"].endswith(
        "Values for request parameters are invalid: kind, sku. "
        "For more information, see - https://aka.ms/storageaccounttypes"
    )

    # A name already used in another subscription (Storage names are global).
    other = "11111111-2222-3333-4444-555555555555"
    arm_emulator.control.add_subscription(other, principals=[arm_emulator.client_id])
    theirs = arm_emulator.resource_client(subscription_id=other)
    theirs.resource_groups.create_or_update("theirs", {"location": "westus2"})
    taken_id = (
        f"/subscriptions/{other}/resourceGroups/theirs/providers/Microsoft.Storage/storageAccounts/errtaken"
    )
    body = {"location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}
    theirs.resources.begin_create_or_update_by_id(taken_id, body, api_version="2023-01-01").result()
    create(kube_api, account("errtaken", owner), plural=ACCOUNTS[2])
    taken = "StorageAccountAlreadyTaken"
    condition = ready_condition(wait_ready(kube_api, ACCOUNTS, "errtaken", status="False", reason=taken))
    assert condition["severity"] == "Error"
    assert "errtaken is already taken" in condition["message"]

    # A queue service on a premium account, which has no queues.
    create(kube_api, account("errpremium", owner, sku={"name": "Premium_LRS"}), plural=ACCOUNTS[2])
    wait_ready(kube_api, ACCOUNTS, "errpremium", timeout=60)
    create(
        kube_api,
        obj(QUEUE_SERVICES, "err-queues", {"owner": {"name": "errpremium"}}),
        plural=QUEUE_SERVICES[2],
    )
    unsupported = "FeatureNotSupportedForAccount"
    condition = ready_condition(
        wait_ready(kube_api, QUEUE_SERVICES, "err-queues", status="False", reason=unsupported)
    )
    assert condition["severity"] == "Error"
    assert condition["message"].endswith("Queue is not supported for the account.")

    # An endpoint a legacy blob account does not have.
    exports = {"configMaps": {"queueEndpoint": {"name": "legacy", "key": "queue"}}}
    legacy = account("errlegacy", owner, kind="BlobStorage", accessTier="Hot", operatorSpec=exports)
    create(kube_api, legacy, plural=ACCOUNTS[2])
    condition = ready_condition(
        wait_ready(kube_api, ACCOUNTS, "errlegacy", status="False", reason="ExportUnavailable", timeout=60)
    )
    assert condition["severity"] == "Error"
    assert condition["message"].startswith(
        "spec.operatorSpec.configMaps.queueEndpoint: a BlobStorage account"
    )

    # Nothing was deleted, in our subscription or theirs.
    assert arm_emulator.control.counts().get("DELETE", ARM_TYPES[ACCOUNTS]) == 0
    assert arm_emulator.control.get_resource(taken_id) is not None

    # Fixing each spec recovers each object.
    patch(kube_api, ACCOUNTS, "bad-name", {"azureName": "errgoodname"})
    patch(kube_api, ACCOUNTS, "errblockblob", {"sku": {"name": "Premium_LRS"}})
    patch(kube_api, ACCOUNTS, "errtaken", {"azureName": "errtakenfixed"})
    patch(kube_api, QUEUE_SERVICES, "err-queues", {"owner": {"name": "errtaken"}})
    blob_only = {"configMaps": {"queueEndpoint": None, "blobEndpoint": {"name": "legacy", "key": "blob"}}}
    patch(kube_api, ACCOUNTS, "errlegacy", {"operatorSpec": blob_only})
    for which, name in [
        (ACCOUNTS, "bad-name"),
        (ACCOUNTS, "errblockblob"),
        (ACCOUNTS, "errtaken"),
        (QUEUE_SERVICES, "err-queues"),
        (ACCOUNTS, "errlegacy"),
    ]:
        wait_ready(kube_api, which, name, timeout=60)
    legacy_config = kube_api.core.read_namespaced_config_map("legacy", "default").data
    assert legacy_config == {"blob": "https://errlegacy.blob.core.windows.net/"}
    assert get(kube_api, ACCOUNTS, "bad-name")["status"]["id"].endswith("/errgoodname")  # type: ignore[index]


def test_owners_by_name_later_and_by_arm_id_and_the_api_version_of_each_version(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    control = arm_emulator.control
    versions = {"v1api20210401": "2021-04-01", "v1api20220901": "2022-09-01", "v20230101": "2023-01-01"}
    for version, api in versions.items():
        # Every request about this account carries its version's api-version (a matching rule that
        # only counts: a "slow" fault of no delay).
        name = f"own{version}"
        control.inject_fault(f"/storageAccounts/{name}\\?api-version={api}$", count=1000, action="slow")
        control.inject_fault(f"/storageAccounts/{name}\\?(?!api-version={api}$)", count=1000, action="slow")

    # An account of a group aso does not manage, by armId.
    rg_id = (
        arm_emulator.resource_client()
        .resource_groups.create_or_update("unmanaged", {"location": "westus2"})
        .id
    )
    for version in versions:
        which = (GROUP, version, "storageaccounts")
        create(kube_api, obj(which, f"own{version}", account("x", {"armId": rg_id})["spec"]), plural=which[2])

    # A container written before its blob service waits for it, then becomes Ready.
    child = obj(CONTAINERS, "own-container", {"owner": {"name": "own-blobs"}})
    create(kube_api, child, plural=CONTAINERS[2])
    waiting = wait_ready(kube_api, CONTAINERS, "own-container", status="False", reason="WaitingForOwner")
    assert ready_condition(waiting)["severity"] == "Warning"
    create(
        kube_api,
        obj(BLOB_SERVICES, "own-blobs", {"owner": {"name": "ownv1api20210401"}}),
        plural=BLOB_SERVICES[2],
    )
    container = wait_ready(kube_api, CONTAINERS, "own-container", timeout=60)
    account_id = f"{rg_id}/providers/Microsoft.Storage/storageAccounts/ownv1api20210401"
    assert container["status"]["id"] == f"{account_id}/blobServices/default/containers/own-container"

    for version in versions:
        wait_ready(kube_api, (GROUP, version, "storageaccounts"), f"own{version}", timeout=60)
    hits: dict[str, int] = {rule["path"]: rule["hits"] for rule in control.faults()}
    for version, api in versions.items():
        right = f"/storageAccounts/own{version}\\?api-version={api}$"
        wrong = f"/storageAccounts/own{version}\\?(?!api-version={api}$)"
        assert hits[right] >= 2, version  # at least the PUT and a GET
        assert hits[wrong] == 0, version


IDS = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ids/providers"
IDENTITY = f"{IDS}/Microsoft.ManagedIdentity/userAssignedIdentities/one"
WORKSPACE = f"{IDS}/Microsoft.Synapse/workspaces/w"


def roundtrip_spec() -> dict[str, Any]:
    """A StorageAccount spec with every field v1api20210401 has that a user may set."""
    return {
        "owner": {"name": "no-such-group"},
        "azureName": "roundtrip",
        "location": "westus2",
        "kind": "StorageV2",
        "sku": {"name": "Standard_RAGRS"},
        "tags": {"team": "storage"},
        "accessTier": "Cool",
        "allowBlobPublicAccess": False,
        "allowCrossTenantReplication": False,
        "allowSharedKeyAccess": True,
        "isHnsEnabled": False,
        "isNfsV3Enabled": False,
        "largeFileSharesState": "Enabled",
        "minimumTlsVersion": "TLS1_2",
        "supportsHttpsTrafficOnly": True,
        "customDomain": {"name": "files.example.com", "useSubDomainName": True},
        "extendedLocation": {"name": "edge1", "type": "EdgeZone"},
        "identity": {
            "type": "UserAssigned",
            "userAssignedIdentities": [{"reference": {"armId": IDENTITY}}],
        },
        "keyPolicy": {"keyExpirationPeriodInDays": 30},
        "sasPolicy": {"expirationAction": "Log", "sasExpirationPeriod": "1.00:00:00"},
        "routingPreference": {
            "publishInternetEndpoints": True,
            "publishMicrosoftEndpoints": False,
            "routingChoice": "MicrosoftRouting",
        },
        "encryption": {
            "keySource": "Microsoft.Keyvault",
            "requireInfrastructureEncryption": True,
            "keyvaultproperties": {
                "keyname": "k",
                "keyvaulturi": "https://vault.example/",
                "keyversion": "1",
            },
            "identity": {"userAssignedIdentityReference": {"armId": IDENTITY}},
            "services": {
                "blob": {"enabled": True, "keyType": "Account"},
                "queue": {"enabled": True, "keyType": "Service"},
            },
        },
        "networkAcls": {
            "bypass": "AzureServices",
            "defaultAction": "Deny",
            "ipRules": [
                {"action": "Allow", "value": "10.0.0.0/24"},
                {"action": "Allow", "valueFromConfig": {"name": "ips", "key": "office"}},
            ],
            "virtualNetworkRules": [
                {
                    "action": "Allow",
                    "reference": {
                        "group": "network.azure.com",
                        "kind": "VirtualNetworksSubnet",
                        "name": "subnet",
                    },
                    "state": "Succeeded",
                }
            ],
            "resourceAccessRules": [
                {
                    "resourceReference": {"armId": WORKSPACE},
                    "tenantId": "00000000-0000-0000-0000-000000000001",
                }
            ],
        },
        "azureFilesIdentityBasedAuthentication": {
            "directoryServiceOptions": "AD",
            "activeDirectoryProperties": {
                "azureStorageSid": "S-1",
                "domainGuid": "g",
                "domainName": "d",
                "domainSid": "S-2",
                "forestName": "f",
                "netBiosDomainName": "n",
            },
        },
        "operatorSpec": {
            "secrets": {"key1": {"name": "k", "key": "key1"}},
            "configMaps": {"blobEndpoint": {"name": "c", "key": "blob"}},
        },
    }


def test_versions_round_trip_without_loss(kube_api: KubeApi, running_operator: OperatorProcess) -> None:
    """Written in one version, read in every other and written back: nothing lost either way."""
    spec = roundtrip_spec()
    which = (GROUP, "v1api20210401", "storageaccounts")
    kube_api.custom.create_namespaced_custom_object(
        *which[:2], "default", which[2], obj(which, "roundtrip", spec), field_validation="Strict"
    )

    def read(version: str) -> dict[str, Any]:
        found = get(kube_api, (GROUP, version, "storageaccounts"), "roundtrip")
        assert found is not None
        spec_read: dict[str, Any] = found["spec"]
        return spec_read

    for version in ("v1api20220901", "v1api20230101", "v20230101", "v1api20210401"):
        assert read(version) == spec, version

    # Fields only newer versions have survive a write through the older version.
    newer = {
        "dnsEndpointType": "Standard",
        "isSftpEnabled": True,
        "publicNetworkAccess": "Disabled",
        "allowedCopyScope": "AAD",
    }
    patch(kube_api, (GROUP, "v20230101", "storageaccounts"), "roundtrip", newer)
    assert all(k not in read("v1api20210401") for k in newer)
    patch(kube_api, which, "roundtrip", {"tags": {"team": "platform"}})
    assert read("v20230101") == {**spec, **newer, "tags": {"team": "platform"}}
    assert read("v1api20210401") == {**spec, "tags": {"team": "platform"}}
