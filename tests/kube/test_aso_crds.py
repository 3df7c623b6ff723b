"""The repository's generated CRDs (ASO-shaped: served and storage versions, webhook conversion,
categories, printer columns) install, serve, and take ASO's own sample manifests unchanged, converted
by aso's conversion webhook (every write at a served version goes to the storage version)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from aiohttp import web

from aso.common import LoopThread
from aso.conversion import conversion_app
from aso.host import load_registry
from aso.sandbox.kube import load_crd_documents
from aso.sandbox.runner import point_webhook
from aso.testing.kube import KubeApi

from .conftest import Kubectl, raw

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "crds"
SAMPLES = ROOT.parent / "shared" / "conformance" / "aso-samples"
RG_SAMPLE = SAMPLES / "resources" / "v1api20200601" / "v1api20200601_resourcegroup.yaml"


@pytest.fixture
def webhook() -> Iterator[tuple[str, bytes]]:
    """aso's conversion webhook (no operator) in a thread: its URL and CA. Requested by ``kube_crds``,
    so it stops after the API server."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    runner = web.AppRunner(conversion_app(load_registry()))

    async def setup() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()

    thread = LoopThread("conversion-webhook", setup, runner.cleanup)
    thread.start(10)
    yield f"https://127.0.0.1:{runner.addresses[0][1]}/convert", ca.cert_pem.bytes()
    thread.stop(10)


@pytest.fixture
def kube_crds(webhook: tuple[str, bytes]) -> list[Any]:
    return [point_webhook(crd, *webhook) for crd in load_crd_documents([CRDS])]


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


def test_same_spec_applied_at_another_version_records_that_version(
    kubectl: Kubectl, kube_api: KubeApi
) -> None:
    """The stored form decides a no-op, as the real server's store does: the same spec at another
    version changes ``spec.originalVersion`` of the storage version, so it is written (same
    generation: the spec users see did not change)."""
    sample = yaml.safe_load(RG_SAMPLE.read_text())
    name, namespace = sample["metadata"]["name"], sample["metadata"].get("namespace", "default")
    kubectl.apply(sample)

    def stored() -> dict[str, Any]:
        obj: dict[str, Any] = kube_api.custom.get_namespaced_custom_object(
            "resources.azure.com", "v1api20200601storage", namespace, "resourcegroups", name
        )
        return obj

    first = stored()
    assert first["spec"]["originalVersion"] == "v1api20200601"
    # An empty patch at the other version: nothing users see changes, yet the stored form does.
    kube_api.custom.patch_namespaced_custom_object(
        "resources.azure.com", "v1api20210401", namespace, "resourcegroups", name, {}
    )
    second = stored()
    assert second["spec"]["originalVersion"] == "v1api20210401"
    assert second["metadata"]["generation"] == first["metadata"]["generation"]
    assert second["metadata"]["resourceVersion"] != first["metadata"]["resourceVersion"]
    kube_api.custom.patch_namespaced_custom_object(
        "resources.azure.com", "v1api20210401", namespace, "resourcegroups", name, {}
    )
    assert stored()["metadata"]["resourceVersion"] == second["metadata"]["resourceVersion"]  # a no-op
