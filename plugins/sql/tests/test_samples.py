"""Every ASO v2 sql sample, applied unchanged (strict validation), reaches Ready on the local backends.

The sample directories reuse names (three of them hold a server ``aso-sample-sqlserver`` in the one
resource group ``aso-sample-rg``), so each directory gets its own emulator state and operator.
"""

from __future__ import annotations

import pytest
from conftest import ORDER, SAMPLES, apply_strict, create_sample_prerequisites, load, which

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess, wait_ready

pytestmark = pytest.mark.timeout(150)

DIRECTORIES = sorted(
    str(path.parent.relative_to(SAMPLES)) for path in SAMPLES.rglob("*.yaml") if "refs" not in path.parts
)


@pytest.mark.parametrize("directory", sorted(set(DIRECTORIES)))
def test_samples_of_a_directory_become_ready(
    directory: str, arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    create_sample_prerequisites(kube_api)
    loaded = [(path, load(path)) for path in sorted((SAMPLES / directory).glob("*.yaml"))]
    loaded.sort(key=lambda item: ORDER.index(item[1]["kind"]))
    for _, sample in loaded:
        apply_strict(kube_api, sample)
    for path, sample in loaded:
        version = sample["apiVersion"].split("/")[1]
        obj = wait_ready(kube_api, which(sample["kind"], version), sample["metadata"]["name"], timeout=90)
        arm_id = str(obj["status"]["id"])
        print(f"sample sql/{directory}/{path.name}: Ready ({arm_id.split('/providers/')[1]})")
        assert arm_emulator.control.get_resource(arm_id) is not None
