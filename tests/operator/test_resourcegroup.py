"""ResourceGroup end to end: create, update, drift, sync, delete."""

from __future__ import annotations

import pathlib
from typing import Any

import yaml

from aso.testing.arm import ArmEmulatorHandle
from aso.testing.kube import KubeApi, wait_for, wait_ready
from aso.testing.operator import OperatorProcess

GROUP, VERSION, PLURAL = "resources.azure.com", "v1api20200601", "resourcegroups"


def _sample(conformance: pathlib.Path) -> dict[str, Any]:
    path = conformance / "aso-samples/resources/v1api20200601/v1api20200601_resourcegroup.yaml"
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def _get(k8s: KubeApi, name: str, ns: str = "default") -> dict[str, Any]:
    obj: dict[str, Any] = k8s.custom.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)
    return obj


def test_sample_becomes_ready_and_is_deleted(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess, conformance: pathlib.Path
) -> None:
    aso_operator.start()
    sample = _sample(conformance)
    k8s.custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, sample)
    obj = wait_ready(k8s, (GROUP, VERSION, PLURAL), "aso-sample-rg", namespace="default", timeout=30)
    arm_id = f"/subscriptions/{arm_emulator.subscription_id}/resourceGroups/aso-sample-rg"
    assert obj["status"]["id"].lower() == arm_id.lower()
    assert obj["status"]["properties"]["provisioningState"] == "Succeeded"
    assert obj["metadata"]["annotations"]["serviceoperator.azure.com/resource-id"].lower() == arm_id.lower()
    assert "serviceoperator.azure.com/finalizer" in obj["metadata"]["finalizers"]
    assert arm_emulator.control.get_resource(arm_id) is not None

    k8s.custom.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "aso-sample-rg")
    wait_for(
        lambda: (
            not [
                o
                for o in k8s.custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["items"]
            ]
        ),
        timeout=30,
    )
    assert arm_emulator.control.get_resource(arm_id) is None
