"""Taking over from ASO v2 in place: an object ASO v2 stored (at ``v1api20200601storage``, with
``spec.originalVersion``, ``$propertyBag``, ASO's annotations and finalizer) is served at the
versions users write and reconciled by aso, without a PUT when Azure already matches."""

from __future__ import annotations

import json
from typing import Any

from aso_testkinds.objects import RG

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess, get, wait_for, wait_ready

GROUP = RG[0]
STORED = (GROUP, "v1api20200601storage", RG[2])
V2021 = (GROUP, "v1api20210401", RG[2])
RG_TYPE = "microsoft.resources/resourcegroups"


def _ready(obj: dict[str, Any] | None) -> dict[str, Any]:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), {})


def _aso_v2_stored(subscription: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ResourceGroup as ASO v2 leaves it in etcd (shape from ASO's ``v1api20200601storage`` types and
    a recorded ASO v2 controller log): the object, then its status."""
    arm_id = f"/subscriptions/{subscription}/resourceGroups/aso-sample-rg"
    obj = {
        "apiVersion": f"{GROUP}/v1api20200601storage",
        "kind": "ResourceGroup",
        "metadata": {
            "name": "aso-sample-rg",
            "namespace": "default",
            "annotations": {
                "serviceoperator.azure.com/latest-reconciled-generation": "1",
                "serviceoperator.azure.com/operator-namespace": "azureserviceoperator-system",
                "serviceoperator.azure.com/resource-id": arm_id,
            },
            "finalizers": ["serviceoperator.azure.com/finalizer"],
        },
        "spec": {
            # A property of some other ASO version, kept by ASO in the bag (Go name, bare string).
            "$propertyBag": {"FutureSetting": "on"},
            "azureName": "aso-sample-rg",
            "location": "westcentralus",
            "originalVersion": "v1api20200601",
            "tags": {"team": "blue"},
        },
    }
    status = {
        "conditions": [
            {
                "lastTransitionTime": "2024-11-18T18:43:45Z",
                "message": "",
                "observedGeneration": 1,
                "reason": "Succeeded",
                "severity": "",
                "status": "True",
                "type": "Ready",
            }
        ],
        "id": arm_id,
        "location": "westcentralus",
        "name": "aso-sample-rg",
        "properties": {"$propertyBag": {}, "provisioningState": "Succeeded"},
        "tags": {"team": "blue"},
        "type": "Microsoft.Resources/resourceGroups",
    }
    return obj, status


def test_object_stored_by_aso_v2_is_served_and_reconciled_in_place(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    control = arm_emulator.control
    arm_emulator.resource_client().resource_groups.create_or_update(
        "aso-sample-rg", {"location": "westcentralus", "tags": {"team": "blue"}}
    )
    control.reset_counts()
    obj, status = _aso_v2_stored(arm_emulator.subscription_id)
    # Straight into the API server at the storage version, as etcd holds it: no conversion involved.
    k8s.custom.create_namespaced_custom_object(*STORED[:2], "default", STORED[2], obj)
    k8s.custom.patch_namespaced_custom_object_status(
        *STORED[:2], "default", STORED[2], "aso-sample-rg", {"status": status}
    )

    aso_operator.start()
    adopted = wait_for(
        lambda: (
            (o := get(k8s, STORED, "aso-sample-rg"))
            and (o["metadata"].get("annotations") or {}).get("aso.dev/origin") == "adopted"
            and _ready(o).get("status") == "True"
            and o
        ),
        timeout=40,
        what="the ASO v2 object adopted",
    )
    counts = control.counts()
    assert counts.get("GET", RG_TYPE) >= 1
    assert counts.get("PUT", RG_TYPE) == 0  # Azure already matches: nothing written
    assert adopted["metadata"]["finalizers"] == ["serviceoperator.azure.com/finalizer"]
    assert adopted["spec"]["originalVersion"] == "v1api20200601"

    # Served at the versions users write, without the storage version's fields; nothing lost.
    for which in (RG, V2021):
        served = wait_ready(k8s, which, "aso-sample-rg")
        assert served["apiVersion"] == f"{GROUP}/{which[1]}"
        assert served["spec"] == {
            "azureName": "aso-sample-rg",
            "location": "westcentralus",
            "tags": {"team": "blue"},
        }
        assert served["status"]["properties"] == {"provisioningState": "Succeeded"}
        bag = json.loads(served["metadata"]["annotations"]["aso.dev/property-bag"])
        assert bag == {"spec.futureSetting": "on"}

    # And deleting it deletes the resource group, as ASO v2 would have.
    k8s.custom.delete_namespaced_custom_object(*RG[:2], "default", RG[2], "aso-sample-rg")
    wait_for(lambda: get(k8s, RG, "aso-sample-rg") is None, timeout=40, what="the object gone")
    assert control.get_resource(adopted["status"]["id"]) is None
