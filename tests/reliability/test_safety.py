"""An object touches only the Azure resource it names, and nothing is lost or leaked.

One test per class of defect (names, claims, deletes at any moment, operation records, credentials,
policies) with the neighbours a reviewer asks for. Each asserts the exact condition reason and what
the ARM emulator holds afterwards: nothing deleted that should stay, nothing left that should go.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aso_testkinds.objects import RG, WIDGET, resource_group, widget
from azure.core.exceptions import HttpResponseError
from kubernetes.client.exceptions import ApiException

from aso.testing import OperatorProcess, create, ensure_namespace, get, ready_condition, wait_ready
from aso.testing.arm import ArmEmulatorHandle
from aso.testing.kube import KubeApi, create_secret, wait_for

pytestmark = pytest.mark.timeout(180)

RESOURCE_ID = "serviceoperator.azure.com/resource-id"
POLICY = "serviceoperator.azure.com/reconcile-policy"
OPERATION = "aso.dev/operation"
STORAGE = "Microsoft.Storage/storageAccounts"


def _rg_id(arm: ArmEmulatorHandle, name: str) -> str:
    return f"/subscriptions/{arm.subscription_id}/resourceGroups/{name}"


def _held(arm: ArmEmulatorHandle) -> set[str]:
    """Every resource id the emulator holds, lower-cased."""
    return {str(r["id"]).lower() for r in arm.control.resources()}


def _ids(*ids: str) -> set[str]:
    return {i.lower() for i in ids}


def _patch(
    k8s: KubeApi, which: tuple[str, str, str], name: str, body: dict[str, Any], ns: str = "default"
) -> None:
    k8s.custom.patch_namespaced_custom_object(which[0], which[1], ns, which[2], name, body)


def _delete(k8s: KubeApi, which: tuple[str, str, str], name: str, ns: str = "default") -> None:
    k8s.custom.delete_namespaced_custom_object(which[0], which[1], ns, which[2], name)


def _gone(
    k8s: KubeApi, which: tuple[str, str, str], name: str, ns: str = "default", timeout: float = 60
) -> None:
    wait_for(lambda: get(k8s, which, name, ns) is None, timeout=timeout, what=f"{name} to be gone")


def _victim(arm: ArmEmulatorHandle) -> tuple[str, str]:
    """A resource group and a storage account in it that no object names (what must survive)."""
    rm = arm.resource_client()
    rg = rm.resource_groups.create_or_update("victim", {"location": "westus2"}).id
    account = rm.resources.begin_create_or_update_by_id(
        f"{rg}/providers/{STORAGE}/acct",
        api_version="2023-01-01",
        parameters={"location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
    ).result()
    arm.control.reset_counts()
    return str(rg), str(account.id)


# -- 1. a name can only reach the resource it names ------------------------------------------------


@pytest.mark.parametrize(
    ("azure_name", "why"),
    [
        ("victim/providers/Microsoft.Storage/storageAccounts/acct", "slash"),
        ("rg#1", "fragment"),
        ("a" * 91, "too long"),
        ("ends-with-dot.", "trailing dot"),
        ("", "empty"),
    ],
)
def test_crd_refuses_bad_resource_group_names(k8s: KubeApi, azure_name: str, why: str) -> None:
    with pytest.raises(ApiException) as info:
        create(k8s, resource_group(f"rg-{why.replace(' ', '-')}", azureName=azure_name))
    assert info.value.status == 422, why
    assert "spec.azureName" in str(info.value.body)


def test_crd_accepts_names_at_the_limit(conversion_only: Any, k8s: KubeApi) -> None:
    create(k8s, resource_group("rg-limit", azureName="a" * 90))
    create(k8s, resource_group("rg-chars", azureName="My_Group-(1).x"))


@pytest.mark.parametrize(
    ("azure_name", "shown"),
    [
        ("victim/providers/Microsoft.Storage/storageAccounts/acct", "'/'"),
        ("w#1", "'#'"),
        ("w?x=1", "'?'"),
        ("..", "'.' and '..'"),
        ("w%2Fx", "'%'"),
    ],
)
def test_operator_refuses_names_that_would_reach_another_resource(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess, azure_name: str, shown: str
) -> None:
    """Widget's CRD has no name rule (it declares none), so the operator's own check must hold."""
    victim_rg, account = _victim(arm_emulator)
    aso_operator.start()
    create(k8s, resource_group("rg-w"))
    wait_ready(k8s, RG, "rg-w")
    arm_emulator.control.reset_counts()

    create(k8s, widget("w-bad", owner="rg-w", azureName=azure_name))
    obj = wait_ready(k8s, WIDGET, "w-bad", status="False", reason="InvalidResourceName")
    condition = ready_condition(obj)
    assert condition["severity"] == "Error"
    assert "spec.azureName" in condition["message"]
    assert shown in condition["message"]
    assert RESOURCE_ID not in (obj["metadata"].get("annotations") or {})
    assert arm_emulator.control.counts().of_type("microsoft.asotest/widgets") == 0

    _delete(k8s, WIDGET, "w-bad")
    _gone(k8s, WIDGET, "w-bad")
    counts = arm_emulator.control.counts()
    assert counts.of_type("microsoft.asotest/widgets") == 0
    assert counts.of_type(STORAGE.lower()) == 0
    assert _held(arm_emulator) == _ids(victim_rg, account, _rg_id(arm_emulator, "rg-w"))


def test_metadata_name_is_checked_when_azure_name_is_absent(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    """The CRD cannot check metadata.name; a 91-character one is refused before any request."""
    aso_operator.start()
    name = "r" * 91
    create(k8s, resource_group(name))
    obj = wait_ready(k8s, RG, name, status="False", reason="InvalidResourceName")
    message = ready_condition(obj)["message"]
    assert message.startswith("metadata.name")
    assert "1-90 characters" in message
    assert "(91 characters)" in message or "is 91" in message
    _delete(k8s, RG, name)
    _gone(k8s, RG, name)
    assert arm_emulator.control.counts().of_type("microsoft.resources/resourcegroups") == 0
    assert _held(arm_emulator) == set()


def test_owner_arm_id_of_another_type_is_refused(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    victim_rg, account = _victim(arm_emulator)
    aso_operator.start()
    arm_emulator.control.reset_counts()
    bad_owners = {
        "w-type": account,  # a storage account is no resource group
        "w-dots": f"{account}/blobServices/..",  # fits the CRD's armId pattern, not ARM's names
        "w-sub": f"/subscriptions/{arm_emulator.subscription_id}",  # a subscription, not a group
    }
    for name, arm_id in bad_owners.items():
        obj = widget(name, owner="unused")
        obj["spec"]["owner"] = {"armId": arm_id}
        create(k8s, obj)
    for name in bad_owners:
        obj = wait_ready(k8s, WIDGET, name, status="False", reason="InvalidOwner")
        assert ready_condition(obj)["severity"] == "Error"
        assert ready_condition(obj)["message"].startswith("spec.owner.armId")
    assert arm_emulator.control.counts().total == 0
    for name in bad_owners:
        _delete(k8s, WIDGET, name)
    for name in bad_owners:
        _gone(k8s, WIDGET, name)
    assert arm_emulator.control.counts().total == 0
    assert _held(arm_emulator) == _ids(victim_rg, account)


def test_unknown_location_is_refused_by_arm_and_reported(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    rm = arm_emulator.resource_client()
    with pytest.raises(HttpResponseError) as info:
        rm.resource_groups.create_or_update("rg-sdk-nowhere", {"location": "nowhere"})
    assert info.value.error is not None
    assert info.value.error.code == "LocationNotAvailableForResourceGroup"
    # Display names are regions too.
    assert rm.resource_groups.create_or_update("rg-display", {"location": "West US 2"}).id
    with pytest.raises(HttpResponseError) as info:
        rm.resources.begin_create_or_update_by_id(
            f"{_rg_id(arm_emulator, 'rg-display')}/providers/{STORAGE}/acct",
            api_version="2023-01-01",
            parameters={"location": "nowhere", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
        ).result()
    assert info.value.error is not None
    assert info.value.error.code == "LocationNotAvailableForResourceType"

    aso_operator.start()
    create(k8s, resource_group("rg-nowhere", location="nowhere"))
    obj = wait_ready(k8s, RG, "rg-nowhere", status="False", reason="LocationNotAvailableForResourceGroup")
    assert ready_condition(obj)["severity"] == "Error"
    assert "'nowhere'" in ready_condition(obj)["message"]
    assert _held(arm_emulator) == _ids(_rg_id(arm_emulator, "rg-display"))
    _delete(k8s, RG, "rg-nowhere")
    _gone(k8s, RG, "rg-nowhere")
    assert _held(arm_emulator) == _ids(_rg_id(arm_emulator, "rg-display"))


# -- 2. one Azure resource, one managing object ----------------------------------------------------


@pytest.mark.parametrize("same_namespace", [False, True])
def test_second_claimant_never_writes_nor_deletes(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess, same_namespace: bool
) -> None:
    ns = "default" if same_namespace else "team-b"
    ensure_namespace(k8s, ns)
    aso_operator.start()
    rg_id = _rg_id(arm_emulator, "shared")
    create(k8s, resource_group("first", azureName="shared", tags={"owner": "first"}))
    wait_ready(k8s, RG, "first")
    puts_before = arm_emulator.control.counts().get("PUT", "microsoft.resources/resourcegroups")

    create(k8s, resource_group("second", namespace=ns, azureName="shared", tags={"owner": "second"}))
    obj = wait_ready(k8s, RG, "second", namespace=ns, status="False", reason="ResourceAlreadyManaged")
    assert ready_condition(obj)["severity"] == "Error"
    assert "ResourceGroup default/first" in ready_condition(obj)["message"]
    assert RESOURCE_ID not in (obj["metadata"].get("annotations") or {})
    assert arm_emulator.control.counts().get("PUT", "microsoft.resources/resourcegroups") == puts_before
    found = arm_emulator.control.get_resource(rg_id) or {}
    assert found.get("body", found)["tags"] == {"owner": "first"}

    # Deleting the second claimant deletes nothing in Azure; the first stays Ready.
    _delete(k8s, RG, "second", ns)
    _gone(k8s, RG, "second", ns)
    assert arm_emulator.control.counts().get("DELETE", "microsoft.resources/resourcegroups") == 0
    assert _held(arm_emulator) == _ids(rg_id)
    assert ready_condition(get(k8s, RG, "first"))["status"] == "True"

    _delete(k8s, RG, "first")
    _gone(k8s, RG, "first")
    assert _held(arm_emulator) == set()


# -- 3. a delete at any moment deletes what may exist ----------------------------------------------


def test_delete_during_a_long_running_create_leaves_nothing(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    arm_emulator.control.set_lro(
        "Microsoft.Resources/resourceGroups", "PUT", mode="async", polls=1000, delay=1
    )
    aso_operator.start()
    create(k8s, resource_group("rg-lro"))
    obj = wait_for(
        lambda: (o := get(k8s, RG, "rg-lro")) and OPERATION in (o["metadata"].get("annotations") or {}) and o,
        timeout=30,
        what="the create's operation record",
    )
    assert obj["metadata"]["annotations"][RESOURCE_ID].lower() == _rg_id(arm_emulator, "rg-lro").lower()
    assert _held(arm_emulator) == _ids(_rg_id(arm_emulator, "rg-lro"))

    _delete(k8s, RG, "rg-lro")
    _gone(k8s, RG, "rg-lro")
    wait_for(lambda: _held(arm_emulator) == set(), timeout=30, what="the resource group to be deleted")


def test_delete_during_a_slow_synchronous_put_leaves_nothing(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    arm_emulator.control.slow_down("resourceGroups/rg-slow", method="PUT", delay=4)
    aso_operator.start()
    create(k8s, resource_group("rg-slow"))
    # The id is recorded before the PUT is sent: delete while the PUT is still on its way.
    wait_for(
        lambda: RESOURCE_ID in ((get(k8s, RG, "rg-slow") or {}).get("metadata", {}).get("annotations") or {}),
        timeout=30,
        what="the resource id annotation",
    )
    assert arm_emulator.control.counts().get("PUT", "microsoft.resources/resourcegroups") <= 1
    _delete(k8s, RG, "rg-slow")
    _gone(k8s, RG, "rg-slow")
    assert _held(arm_emulator) == set()
    assert arm_emulator.control.counts().get("DELETE", "microsoft.resources/resourcegroups") == 1


def test_delete_while_the_owner_is_being_deleted_leaves_nothing(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    aso_operator.start()
    create(k8s, resource_group("rg-own"))
    create(k8s, widget("w-own", owner="rg-own"))
    wait_ready(k8s, WIDGET, "w-own")
    _delete(k8s, RG, "rg-own")
    _delete(k8s, WIDGET, "w-own")
    _gone(k8s, RG, "rg-own")
    _gone(k8s, WIDGET, "w-own")
    wait_for(lambda: _held(arm_emulator) == set(), timeout=30, what="the group and its widget to go")


# -- 4. malformed operation records ----------------------------------------------------------------


def _record(arm: ArmEmulatorHandle, arm_id: str, url: str) -> str:
    return json.dumps({"method": "PUT", "arm_id": arm_id, "api_version": "2020-06-01", "status_url": url})


@pytest.mark.parametrize("port", ["abc", "99999", "-1"])
def test_malformed_operation_record_is_rejected_then_delete_still_deletes(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess, port: str
) -> None:
    aso_operator.start()
    create(k8s, resource_group("rg-rec"))
    wait_ready(k8s, RG, "rg-rec")
    rg_id = _rg_id(arm_emulator, "rg-rec")
    bad = _record(arm_emulator, rg_id, f"https://127.0.0.1:{port}/operations/x?api-version=2020-06-01")
    _patch(k8s, RG, "rg-rec", {"metadata": {"annotations": {OPERATION: bad}}, "spec": {"tags": {"x": "1"}}})
    obj = wait_ready(k8s, RG, "rg-rec", status="False", reason="OperationRejected")
    assert ready_condition(obj)["severity"] == "Error"
    assert OPERATION not in (obj["metadata"].get("annotations") or {})

    # A record broken again just before the delete does not stop the delete.
    _patch(k8s, RG, "rg-rec", {"metadata": {"annotations": {OPERATION: bad}}})
    _delete(k8s, RG, "rg-rec")
    _gone(k8s, RG, "rg-rec")
    assert _held(arm_emulator) == set()


# -- 5. token failures have their own reason -------------------------------------------------------


def test_invalid_client_secret_is_an_authentication_failure(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    ensure_namespace(k8s, "badcred")
    data = {
        "AZURE_TENANT_ID": arm_emulator.tenant_id,
        "AZURE_SUBSCRIPTION_ID": arm_emulator.subscription_id,
        "AZURE_CLIENT_ID": arm_emulator.client_id,
        "AZURE_CLIENT_SECRET": "not-the-secret",
    }
    create_secret(k8s, "aso-credential", "badcred", data)
    aso_operator.start()
    create(k8s, resource_group("rg-cred", namespace="badcred"))
    obj = wait_ready(k8s, RG, "rg-cred", namespace="badcred", status="False", reason="AuthenticationFailed")
    assert ready_condition(obj)["severity"] == "Error"
    assert "AADSTS7000215" in ready_condition(obj)["message"]
    assert _held(arm_emulator) == set()


# -- 6. an invalid reconcile policy keeps the object instead of guessing ---------------------------


def test_invalid_policy_on_delete_keeps_object_and_resource_until_fixed(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    aso_operator.start()
    create(k8s, resource_group("rg-pol"))
    wait_ready(k8s, RG, "rg-pol")
    rg_id = _rg_id(arm_emulator, "rg-pol")
    _patch(k8s, RG, "rg-pol", {"metadata": {"annotations": {POLICY: "bogus"}}})
    _delete(k8s, RG, "rg-pol")
    # The update handler reports the bad policy too; wait for what the delete handler says.
    obj = wait_for(
        lambda: (o := get(k8s, RG, "rg-pol")) and "kept" in ready_condition(o).get("message", "") and o,
        timeout=60,
    )
    assert obj["metadata"].get("deletionTimestamp")
    assert ready_condition(obj)["reason"] == "InvalidPolicy"
    assert ready_condition(obj)["severity"] == "Error"
    assert "'bogus'" in ready_condition(obj)["message"]
    assert "kept" in ready_condition(obj)["message"]
    events = k8s.core.list_namespaced_event("default").items
    assert any(e.reason == "InvalidPolicy" and e.involved_object.name == "rg-pol" for e in events)
    assert _held(arm_emulator) == _ids(rg_id)

    _patch(k8s, RG, "rg-pol", {"metadata": {"annotations": {POLICY: "detach-on-delete"}}})
    _gone(k8s, RG, "rg-pol")
    assert _held(arm_emulator) == _ids(rg_id)  # detached: left in Azure, as asked


def test_tampered_resource_id_is_never_deleted(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    victim_rg, account = _victim(arm_emulator)
    aso_operator.start()
    create(k8s, resource_group("rg-tamper"))
    wait_ready(k8s, RG, "rg-tamper")
    own = _rg_id(arm_emulator, "rg-tamper")
    for target in (account, victim_rg):
        _patch(k8s, RG, "rg-tamper", {"metadata": {"annotations": {RESOURCE_ID: target}}})
    _delete(k8s, RG, "rg-tamper")
    obj = wait_ready(k8s, RG, "rg-tamper", status="False", reason="InvalidResourceId")
    assert "nothing is deleted" in ready_condition(obj)["message"]
    assert arm_emulator.control.counts().get("DELETE", "microsoft.resources/resourcegroups") == 0
    _patch(k8s, RG, "rg-tamper", {"metadata": {"annotations": {RESOURCE_ID: own}}})
    _gone(k8s, RG, "rg-tamper")
    assert _held(arm_emulator) == _ids(victim_rg, account)
