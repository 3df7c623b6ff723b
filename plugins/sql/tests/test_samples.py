"""Every ASO v2 sql sample, applied unchanged (strict validation), reaches Ready on the local backends.

The sample directories reuse names (three of them hold a server ``aso-sample-sqlserver`` in the one
resource group ``aso-sample-rg``), so each directory gets its own emulator state and operator.
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import yaml
from sql_testkit import ORDER, SAMPLES, apply_strict, create_sample_prerequisites, load, which

from aso.testing import (
    ArmEmulatorHandle,
    KubeApi,
    OperatorProcess,
    create,
    create_secret,
    wait_for,
    wait_ready,
)

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


def _readme_documents() -> list[dict[str, Any]]:
    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    return [doc for doc in yaml.safe_load_all(block) if doc]


def test_readme_example_becomes_ready_with_its_export(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    documents = _readme_documents()
    assert [d["kind"] for d in documents][:3] == ["Secret", "ConfigMap", "ResourceGroup"]
    for doc in documents:
        if doc["kind"] == "Secret":
            create_secret(kube_api, doc["metadata"]["name"], "default", doc["stringData"])
        elif doc["kind"] == "ConfigMap":
            kube_api.core.create_namespaced_config_map("default", doc)
        elif doc["kind"] == "ResourceGroup":
            create(kube_api, doc, plural="resourcegroups")
        else:
            apply_strict(kube_api, doc)
    for doc in documents:
        if doc["apiVersion"].startswith("sql.azure.com/"):
            version = doc["apiVersion"].split("/")[1]
            wait_ready(kube_api, which(doc["kind"], version), doc["metadata"]["name"], timeout=90)
            print(f"README example {doc['kind']} {doc['metadata']['name']}: Ready")
    exported = wait_for(
        lambda: kube_api.core.read_namespaced_config_map("sql-endpoints", "default").data, timeout=30
    )
    assert exported == {"host": "contoso-sql-0001.database.windows.net"}
