"""The repository's generated CRDs (ASO-shaped: several versions, webhook conversion stanza, categories,
printer columns) install, serve, and take ASO's own sample manifests unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aso.sandbox.kube import load_crd_documents
from aso.testing.kube import KubeApi

from .conftest import Kubectl, raw

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "crds"
SAMPLES = ROOT.parent / "shared" / "conformance" / "aso-samples"
RG_SAMPLE = SAMPLES / "resources" / "v1api20200601" / "v1api20200601_resourcegroup.yaml"


@pytest.fixture
def kube_crds() -> list[Any]:
    return [CRDS]


def test_every_generated_crd_is_served(kube_api: KubeApi) -> None:
    documents = load_crd_documents([CRDS])
    assert documents, "crds/ holds no CRDs"
    groups = {g["name"]: g for g in raw(kube_api, "GET", "/apis").body["groups"]}
    for crd in documents:
        spec = crd["spec"]
        assert spec["group"] in groups
        for version in spec["versions"]:
            listed = raw(kube_api, "GET", f"/apis/{spec['group']}/{version['name']}").body
            names = {r["name"] for r in listed["resources"]}
            assert spec["names"]["plural"] in names
        status = raw(
            kube_api,
            "GET",
            f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}",
        ).body
        assert {c["type"]: c["status"] for c in status["status"]["conditions"]}["Established"] == "True"


def test_aso_sample_applies_with_kubectl(kubectl: Kubectl, kube_api: KubeApi) -> None:
    if not RG_SAMPLE.exists():
        pytest.fail(f"ASO sample missing: {RG_SAMPLE}")
    sample = yaml.safe_load(RG_SAMPLE.read_text())
    name = sample["metadata"]["name"]
    out = kubectl.run("apply", "-f", str(RG_SAMPLE)).stdout.strip()
    assert out == f"resourcegroup.resources.azure.com/{name} created"
    stored = kube_api.custom.get_namespaced_custom_object(
        "resources.azure.com",
        "v1api20200601",
        sample["metadata"].get("namespace", "default"),
        "resourcegroups",
        name,
    )
    assert stored["spec"]["location"] == sample["spec"]["location"]
    header = kubectl.run(
        "get", "rg", "-n", sample["metadata"].get("namespace", "default")
    ).stdout.splitlines()[0]
    assert header.split()[:4] == ["NAME", "READY", "SEVERITY", "REASON"]
