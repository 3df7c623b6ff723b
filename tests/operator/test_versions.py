"""An object written in another served version reaches the hub through the operator's conversion
webhook, and the operator talks to ARM with the API version the object was written in."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import trustme
import yaml
from aso_testkinds.objects import RG

from aso.sandbox.runner import point_webhook
from aso.testing.arm import ArmEmulatorHandle
from aso.testing.kube import KubeApi
from aso.testing.operator import OperatorProcess, free_port, wait_ready_state

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def webhook(tmp_path: pathlib.Path) -> dict[str, Any]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path = tmp_path / "webhook.crt", tmp_path / "webhook.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    port = free_port()
    return {"port": port, "cert": cert_path, "key": key_path, "ca": ca.cert_pem.bytes()}


@pytest.fixture
def kube_crds(webhook: dict[str, Any]) -> list[Any]:
    crd = yaml.safe_load((REPO / "crds" / "resourcegroups.resources.azure.com.yaml").read_text())
    return [point_webhook(crd, f"https://127.0.0.1:{webhook['port']}/convert", webhook["ca"])]


def test_object_written_in_newer_version_is_put_with_that_api_version(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess, webhook: dict[str, Any]
) -> None:
    aso_operator.env.update(
        {
            "ASO_WEBHOOK_ADDRESS": f"127.0.0.1:{webhook['port']}",
            "ASO_WEBHOOK_CERT": str(webhook["cert"]),
            "ASO_WEBHOOK_KEY": str(webhook["key"]),
        }
    )
    # One 500 for a PUT with api-version 2021-04-01: consumed only if the operator uses that version.
    arm_emulator.control.inject_fault(
        "resourceGroups/rg-v2.*api-version=2021-04-01", method="PUT", status=500
    )
    aso_operator.start()
    manifest = {
        "apiVersion": "resources.azure.com/v1api20210401",
        "kind": "ResourceGroup",
        "metadata": {"name": "rg-v2", "namespace": "default"},
        "spec": {"location": "westus2", "tags": {"written": "v1api20210401"}},
    }
    k8s.custom.create_namespaced_custom_object(
        "resources.azure.com", "v1api20210401", "default", RG[2], manifest
    )
    stored = wait_ready_state(k8s, RG, "rg-v2", timeout=40)
    assert stored["apiVersion"] == "resources.azure.com/v1api20200601"
    assert stored["metadata"]["annotations"]["aso.dev/original-version"] == "v1api20210401"
    assert arm_emulator.control.faults() == []  # the PUT went out with api-version 2021-04-01
    again = k8s.custom.get_namespaced_custom_object(
        "resources.azure.com", "v1api20210401", "default", RG[2], "rg-v2"
    )
    assert again["apiVersion"] == "resources.azure.com/v1api20210401"
    assert again["spec"]["tags"] == {"written": "v1api20210401"}
