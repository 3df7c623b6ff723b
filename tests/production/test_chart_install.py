"""The chart installed, upgraded and uninstalled with a real ``helm`` binary on the local Kubernetes
API server (``nox -s chart`` fetches helm and sets ``ASO_HELM``; without it these tests skip).

No scheduler or kubelet runs: the objects a chart creates are stored, listed, patched and deleted
as data, which is what helm needs.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from aso.testing.kube import KubeApi, ensure_namespace

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "aso"
HELM = os.environ.get("ASO_HELM", "")
NAMESPACE = "aso-system"
CRD = "resourcegroups.resources.azure.com"

pytestmark = [
    pytest.mark.skipif(not HELM, reason="needs a helm binary (ASO_HELM): `nox -s chart` installs one"),
    pytest.mark.timeout(300),
]


@pytest.fixture
def kube_crds() -> list[Any]:
    """An empty cluster: the chart brings its CRDs."""
    return []


def _helm(kube_api: KubeApi, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    home = kube_api.kubeconfig.parent / "helm"
    result = subprocess.run(
        [HELM, *args],
        env={
            **os.environ,
            "KUBECONFIG": str(kube_api.kubeconfig),
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(f"$ helm {' '.join(args)}\n{result.stdout}{result.stderr}")
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_install_upgrade_uninstall_keeps_the_crds(kube_api: KubeApi) -> None:
    apps = kubernetes.client.AppsV1Api(kube_api.client)
    extensions = kubernetes.client.ApiextensionsV1Api(kube_api.client)

    ensure_namespace(kube_api, NAMESPACE)
    _helm(
        kube_api,
        "install",
        "aso",
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--set",
        "azure.existingSecret=aso-controller-settings",
    )
    deployment = apps.read_namespaced_deployment("aso", NAMESPACE)
    assert deployment.spec.replicas == 2
    container = deployment.spec.template.spec.containers[0]
    env = {e.name: e.value for e in container.env}
    assert env["ASO_LEADER_ELECTION"] == "true"
    assert env["ASO_WEBHOOK_HOSTS"].startswith(f"aso-webhook.{NAMESPACE}.svc")
    assert container.env_from[0].secret_ref.name == "aso-controller-settings"
    crd = extensions.read_custom_resource_definition(CRD)
    assert crd.metadata.annotations["helm.sh/resource-policy"] == "keep"
    assert crd.spec.conversion.webhook.client_config.service.name == "aso-webhook"
    assert crd.spec.conversion.webhook.client_config.service.namespace == NAMESPACE
    kubernetes.client.CoreV1Api(kube_api.client).read_namespaced_service("aso-webhook", NAMESPACE)

    upgrade = ["upgrade", "aso", str(CHART), "--namespace", NAMESPACE, "--reuse-values"]
    _helm(kube_api, *upgrade, "--set", "replicaCount=1")
    assert apps.read_namespaced_deployment("aso", NAMESPACE).spec.replicas == 1
    releases = json.loads(_helm(kube_api, "list", "--namespace", NAMESPACE, "--output", "json").stdout)
    assert [(r["name"], r["revision"], r["status"]) for r in releases] == [("aso", "2", "deployed")]

    uninstall = _helm(kube_api, "uninstall", "aso", "--namespace", NAMESPACE)
    assert apps.list_namespaced_deployment(NAMESPACE).items == []
    rbac = kubernetes.client.RbacAuthorizationV1Api(kube_api.client)
    assert [r.metadata.name for r in rbac.list_cluster_role().items if r.metadata.name == "aso"] == []
    # Kept: deleting a CRD deletes every object of its kind, and the operator's finalizers would
    # then delete their Azure resources, or leave the objects stuck with no operator running.
    assert extensions.read_custom_resource_definition(CRD).metadata.name == CRD
    assert uninstall.returncode == 0, uninstall.stderr
    assert "[CustomResourceDefinition] resourcegroups.resources.azure.com" in uninstall.stdout
    assert json.loads(_helm(kube_api, "list", "--namespace", NAMESPACE, "--output", "json").stdout) == []
