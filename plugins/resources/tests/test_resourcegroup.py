"""End to end on the local sandbox: ARM emulator, Kubernetes API server and the operator."""

import pytest

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess, create, wait_ready


@pytest.mark.parametrize("version", ["v1api20200601", "v1api20210401"])
def test_resourcegroup_becomes_ready(
    version: str, arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    sample = {
        "apiVersion": f"resources.azure.com/{version}",
        "kind": "ResourceGroup",
        "metadata": {"name": "sample", "namespace": "default"},
        "spec": {"location": "westus2", "tags": {"env": "test"}},
    }
    create(kube_api, sample, plural="resourcegroups")
    obj = wait_ready(kube_api, ("resources.azure.com", version, "resourcegroups"), "sample", timeout=120)
    assert obj["status"]["id"].endswith("/resourceGroups/sample")
    group = arm_emulator.resource_client().resource_groups.get("sample")
    assert group.tags == {"env": "test"}
