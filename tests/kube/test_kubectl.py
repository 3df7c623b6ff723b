"""kubectl against the server: apply (client-side), get (server-side Table), get -w, describe, delete,
explain, label, create. Outside CI a missing kubectl skips these; under ``CI=true`` it fails them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from aso.testing.kube import KubeApi, wait_for

from .conftest import GROUP, PLURAL, Kubectl, widget, widget_crd

pytestmark = pytest.mark.kubectl


@pytest.fixture
def kube_crds() -> list[Any]:
    return []  # these tests install the CRD with kubectl itself


def _ready(kube_api: KubeApi, name: str, reason: str = "Succeeded") -> None:
    kube_api.custom.patch_namespaced_custom_object_status(
        GROUP,
        "v1",
        "default",
        PLURAL,
        name,
        {
            "status": {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "severity": "",
                        "reason": reason,
                        "message": "all good",
                    }
                ]
            }
        },
    )


def test_apply_get_describe_delete_a_custom_resource(kubectl: Kubectl, kube_api: KubeApi) -> None:
    out = kubectl.apply(widget_crd()).stdout
    assert out.strip() == f"customresourcedefinition.apiextensions.k8s.io/{PLURAL}.{GROUP} created"
    kubectl.run("wait", "--for", "condition=established", f"crd/{PLURAL}.{GROUP}", "--timeout=10s")

    assert kubectl.apply(widget("w1")).stdout.strip() == "widget.test.aso.dev/w1 created"
    assert kubectl.apply(widget("w1")).stdout.strip() == "widget.test.aso.dev/w1 unchanged"
    assert kubectl.apply(widget("w1", size="large")).stdout.strip() == "widget.test.aso.dev/w1 configured"
    stored = kube_api.custom.get_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "w1")
    assert stored["spec"]["size"] == "large"
    assert "kubectl.kubernetes.io/last-applied-configuration" in stored["metadata"]["annotations"]
    assert stored["metadata"]["generation"] == 2

    table = kubectl.run("get", "widgets").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "SEVERITY", "REASON"]
    assert table[1].split() == ["w1"]
    _ready(kube_api, "w1")
    rows = kubectl.run("get", "wdg", "-o", "wide").stdout.splitlines()
    assert rows[0].split() == ["NAME", "READY", "SEVERITY", "REASON", "MESSAGE"]
    assert rows[1].split() == ["w1", "True", "Succeeded", "all", "good"]
    assert "w1" in kubectl.run("get", "azure").stdout  # the CRD's category
    assert kubectl.run("get", "widget", "w1", "-o", "jsonpath={.spec.size}").stdout == "large"

    kube_api.core.create_namespaced_event(
        "default",
        {
            "metadata": {"generateName": "w1-"},
            "involvedObject": {
                "apiVersion": f"{GROUP}/v1",
                "kind": "Widget",
                "name": "w1",
                "namespace": "default",
                "uid": stored["metadata"]["uid"],
            },
            "reason": "Provisioned",
            "message": "resource group created",
            "type": "Normal",
            "source": {"component": "aso"},
        },
    )
    described = kubectl.run("describe", "widget", "w1").stdout
    assert "Name:         w1" in described
    assert "Size:      large" in described or "Size:  large" in described
    assert "Provisioned" in described
    assert "resource group created" in described

    kubectl.run("label", "widget", "w1", "team=a")
    assert (
        kubectl.run("get", "widgets", "-l", "team=a", "-o", "name").stdout.strip() == "widget.test.aso.dev/w1"
    )
    assert kubectl.run("get", "widgets", "-l", "team=b", "-o", "name").stdout.strip() == ""

    assert kubectl.run("delete", "widget", "w1").stdout.strip() == 'widget.test.aso.dev "w1" deleted'
    missing = kubectl.run("get", "widget", "w1", check=False)
    assert missing.returncode == 1
    assert 'widgets.test.aso.dev "w1" not found' in missing.stderr


def test_apply_validation_errors(kubectl: Kubectl) -> None:
    kubectl.apply(widget_crd())
    unknown = kubectl.apply(widget("w1", colour="red"), check=False)
    assert unknown.returncode == 1
    assert 'strict decoding error: unknown field "spec.colour"' in unknown.stderr
    invalid = kubectl.apply(widget("w2", size="huge"), check=False)
    assert invalid.returncode == 1
    assert (
        'spec.size: Unsupported value: "huge": supported values: "small", "medium", "large"' in invalid.stderr
    )
    relaxed = kubectl.run(
        "apply", "--validate=false", "-f", "-", stdin=yaml.safe_dump(widget("w3", colour="red"))
    )
    assert relaxed.stdout.strip() == "widget.test.aso.dev/w3 created"


def test_get_watch_streams_changes(kubectl: Kubectl, kube_api: KubeApi) -> None:
    kubectl.apply(widget_crd())
    kubectl.apply(widget("w1"))
    watcher = kubectl.popen("get", "widgets", "-w", "--request-timeout=20s")
    try:
        assert watcher.stdout is not None
        header = watcher.stdout.readline().split()
        assert header == ["NAME", "READY", "SEVERITY", "REASON"]
        assert watcher.stdout.readline().split() == ["w1"]
        # kubectl watches from its list's resourceVersion: the change below reaches it, however
        # late its watch connects.
        _ready(kube_api, "w1", reason="Provisioned")
        assert watcher.stdout.readline().split() == ["w1", "True", "Provisioned"]
        kubectl.apply(widget("w2"))
        assert watcher.stdout.readline().split() == ["w2"]
    finally:
        watcher.kill()
        watcher.communicate()


def test_delete_waits_for_finalizers(kubectl: Kubectl, kube_api: KubeApi) -> None:
    kubectl.apply(widget_crd())
    body = widget("held")
    body["metadata"]["finalizers"] = ["test.aso.dev/finalizer"]
    kubectl.apply(body)
    deleting = kubectl.popen("delete", "widget", "held", "--timeout=20s")
    custom = kube_api.custom
    wait_for(
        lambda: custom.get_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "held")["metadata"].get(
            "deletionTimestamp"
        ),
        what="deletionTimestamp",
    )
    assert deleting.poll() is None  # still waiting for the finalizer
    custom.patch_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "held", {"metadata": {"finalizers": None}}
    )
    out, err = deleting.communicate(timeout=20)
    assert deleting.returncode == 0, err
    assert out.strip() == 'widget.test.aso.dev "held" deleted'


def test_core_kinds_create_apply_and_namespaces(kubectl: Kubectl, kube_api: KubeApi) -> None:
    assert kubectl.run("create", "namespace", "team-a").stdout.strip() == "namespace/team-a created"
    out = kubectl.run(
        "create", "secret", "generic", "creds", "-n", "team-a", "--from-literal=clientSecret=s3cr3t"
    )
    assert out.stdout.strip() == "secret/creds created"
    secret = kube_api.core.read_namespaced_secret("creds", "team-a")
    assert secret.type == "Opaque"
    assert secret.data == {"clientSecret": "czNjcjN0"}
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "team-a"},
        "data": {"a": "1", "b": "2"},
    }
    assert kubectl.apply(cm).stdout.strip() == "configmap/cfg created"
    cm["data"] = {"a": "1", "c": "3"}
    assert kubectl.apply(cm).stdout.strip() == "configmap/cfg configured"
    assert kube_api.core.read_namespaced_config_map("cfg", "team-a").data == {"a": "1", "c": "3"}
    rows = kubectl.run("get", "cm,secret", "-n", "team-a").stdout
    assert "configmap/cfg" in rows
    assert "secret/creds" in rows
    assert "Opaque" in rows
    namespaces = kubectl.run("get", "ns").stdout.splitlines()
    assert namespaces[0].split() == ["NAME", "STATUS", "AGE"]
    assert any(line.split()[:2] == ["team-a", "Active"] for line in namespaces)
    kubectl.run("describe", "namespace", "team-a")
    assert (
        kubectl.run("delete", "namespace", "team-a", "--timeout=20s").stdout.strip()
        == 'namespace "team-a" deleted'
    )
    assert "team-a" not in kubectl.run("get", "ns", "-o", "name").stdout


def test_explain_reads_the_crd_schema(kubectl: Kubectl) -> None:
    kubectl.apply(widget_crd())
    explained = kubectl.run("explain", "widgets.spec").stdout
    assert "KIND:       Widget" in explained
    assert "size" in explained
    assert "location" in explained


def test_crd_update_keeps_objects_and_changes_columns(kubectl: Kubectl) -> None:
    crd = widget_crd()
    kubectl.apply(crd)
    kubectl.apply(widget("w1", replicas=3))
    assert (
        kubectl.apply(crd).stdout.strip()
        == f"customresourcedefinition.apiextensions.k8s.io/{PLURAL}.{GROUP} unchanged"
    )
    for version in crd["spec"]["versions"]:
        version["additionalPrinterColumns"] = [
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}
        ]
    assert (
        kubectl.apply(crd).stdout.strip()
        == f"customresourcedefinition.apiextensions.k8s.io/{PLURAL}.{GROUP} configured"
    )
    rows = kubectl.run("get", "widgets").stdout.splitlines()
    assert [row.split() for row in rows] == [["NAME", "REPLICAS"], ["w1", "3"]]
