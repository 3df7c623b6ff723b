"""Every ASO v2 storage sample applies unchanged (strict field validation) and reaches Ready.

The samples of one folder share names (``samplekubestorage``, ``samplekubestoragequeues``), and a
storage account name is global in Azure, so each set below runs against a fresh emulator and
operator; within a set every sample is applied at once and each is awaited. One line is printed
per sample.
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import yaml

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess, wait_ready

pytestmark = pytest.mark.timeout(150)

#: ../shared/conformance beside the repository (CI lays shared/ beside its clone the same way).
CONFORMANCE = pathlib.Path(__file__).resolve().parents[3].parent / "shared" / "conformance"
SAMPLES = CONFORMANCE / "aso-samples"
RESOURCE_GROUP = "resources/v1api20200601/v1api20200601_resourcegroup.yaml"

PLURALS = {
    "ResourceGroup": "resourcegroups",
    "StorageAccount": "storageaccounts",
    "StorageAccountsBlobService": "storageaccountsblobservices",
    "StorageAccountsBlobServicesContainer": "storageaccountsblobservicescontainers",
    "StorageAccountsQueueService": "storageaccountsqueueservices",
    "StorageAccountsQueueServicesQueue": "storageaccountsqueueservicesqueues",
    "StorageAccountsManagementPolicy": "storageaccountsmanagementpolicies",
}

#: The sets, each a list of sample files (relative to the storage samples) applied together. The
#: v1api20210401 folder has no account of its own: its children name the account of the
#: queueservice folder's sample.
SETS = {
    "blobservice-v1api": [
        "blobservice/v1api/v1api20210401_storageaccount.yaml",
        "blobservice/v1api/v1api20210401_storageaccountsmanagementpolicy.yaml",
    ],
    "queueservice-v1api": [
        "queueservice/v1api/v1api20210401_storageaccount.yaml",
        "queueservice/v1api/v1api20210401_storageaccountsqueueservice.yaml",
    ],
    "v1api20210401": [
        "queueservice/v1api/v1api20210401_storageaccount.yaml",
        "v1api20210401/v1api20210401_storageaccountsblobservice.yaml",
        "v1api20210401/v1api20210401_storageaccountsblobservicescontainer.yaml",
        "v1api20210401/v1api20210401_storageaccountsqueueservice.yaml",
        "v1api20210401/v1api20210401_storageaccountsqueueservicesqueue.yaml",
    ],
    **{
        version: sorted(
            str(p.relative_to(SAMPLES / "storage")) for p in (SAMPLES / "storage" / version).glob("*.yaml")
        )
        for version in ("v1api20220901", "v1api20230101", "v20230101")
    },
}


def every_storage_sample() -> set[str]:
    return {str(p.relative_to(SAMPLES / "storage")) for p in (SAMPLES / "storage").rglob("*.yaml")}


def apply_strict(kube_api: KubeApi, doc: dict[str, Any]) -> None:
    """``kubectl apply --validate=strict`` of a new object: unknown or duplicate fields are errors."""
    group, version = doc["apiVersion"].split("/")
    kube_api.custom.create_namespaced_custom_object(
        group,
        version,
        doc["metadata"].get("namespace", "default"),
        PLURALS[doc["kind"]],
        doc,
        field_validation="Strict",
    )


def test_the_sets_cover_every_storage_sample() -> None:
    assert SAMPLES.is_dir(), f"ASO samples not found at {SAMPLES}"
    covered = {name for files in SETS.values() for name in files}
    assert covered == every_storage_sample()


@pytest.mark.parametrize("sample_set", sorted(SETS))
def test_samples_apply_unchanged_and_become_ready(
    sample_set: str,
    arm_emulator: ArmEmulatorHandle,
    kube_api: KubeApi,
    running_operator: OperatorProcess,
    capsys: pytest.CaptureFixture[str],
) -> None:
    docs = [yaml.safe_load((SAMPLES / RESOURCE_GROUP).read_text())]
    docs += [yaml.safe_load((SAMPLES / "storage" / name).read_text()) for name in SETS[sample_set]]
    for doc in docs:
        apply_strict(kube_api, doc)
    for name, doc in zip([RESOURCE_GROUP, *SETS[sample_set]], docs, strict=True):
        group, version = doc["apiVersion"].split("/")
        which = (group, version, PLURALS[doc["kind"]])
        obj = wait_ready(kube_api, which, doc["metadata"]["name"], timeout=60)
        with capsys.disabled():
            print(f"\n[storage sample] {name}: Ready ({obj['status']['id']})", end="")
        assert arm_emulator.control.get_resource(obj["status"]["id"]) is not None
