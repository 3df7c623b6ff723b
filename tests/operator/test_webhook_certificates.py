"""The conversion webhook's certificate without cert-manager: the operator issues it into a Secret,
serves it, puts its CA into the CRDs' caBundle, and rotates it before it expires (here a 6 s
validity, so a rotation every 4 s), against the local API server."""

from __future__ import annotations

import base64
import datetime
import socket
import ssl
from typing import Any

import kubernetes
import pytest
from cryptography import x509

from aso.operator.webhook_tls import issue
from aso.testing.kube import ConversionWebhook, KubeApi, create, wait_for, wait_ready
from aso.testing.operator import OperatorProcess

pytestmark = pytest.mark.timeout(120)

SECRET = "aso-webhook-tls"
CRD = "resourcegroups.resources.azure.com"
USER = ("resources.azure.com", "v1api20210401", "resourcegroups")


def _secret(k8s: KubeApi) -> dict[str, bytes]:
    data = k8s.core.read_namespaced_secret(SECRET, "default").data or {}
    return {k: base64.b64decode(v) for k, v in data.items()}


def _ca_bundle(k8s: KubeApi) -> bytes:
    api = kubernetes.client.ApiextensionsV1Api(k8s.client)
    crd: dict[str, Any] = k8s.client.sanitize_for_serialization(api.read_custom_resource_definition(CRD))
    return base64.b64decode(crd["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"])


def _served(port: int, ca_bundle: bytes) -> x509.Certificate:
    """The certificate a new handshake gets, verified against ``ca_bundle`` (as the API server does)."""
    context = ssl.create_default_context(cadata=ca_bundle.decode())
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
        context.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _rg(name: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{USER[0]}/{USER[1]}",
        "kind": "ResourceGroup",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"location": "westus"},
    }


def test_operator_issues_serves_and_rotates_its_webhook_certificate(
    aso_operator: OperatorProcess, kube_api: KubeApi, conversion_webhook: ConversionWebhook
) -> None:
    aso_operator.env.update(
        ASO_WEBHOOK_CERT="",
        ASO_WEBHOOK_KEY="",
        ASO_WEBHOOK_CERT_SECRET=SECRET,
        ASO_WEBHOOK_CERT_NAMESPACE="default",
        ASO_WEBHOOK_HOSTS="127.0.0.1",
        ASO_WEBHOOK_CERT_VALIDITY="6s",
    )
    aso_operator.start()

    def consistent() -> x509.Certificate | None:
        """The served certificate when it is the Secret's and its CA is in caBundle."""
        stored, bundle = _secret(kube_api), _ca_bundle(kube_api)
        cert = _served(conversion_webhook.port, bundle)
        ok = bundle.startswith(stored["ca.crt"]) and cert == x509.load_pem_x509_certificate(stored["tls.crt"])
        return cert if ok else None

    served = wait_for(consistent, timeout=10, what="the Secret's certificate served, its CA in caBundle")

    # A write at a user version converts through the webhook, trusted through the new caBundle.
    create(kube_api, _rg("tls-before"))
    wait_ready(kube_api, USER, "tls-before")

    def rotated() -> x509.Certificate | None:
        cert = _served(conversion_webhook.port, _ca_bundle(kube_api))
        return cert if cert.serial_number != served.serial_number else None

    renewed = wait_for(rotated, timeout=15, what="a rotated certificate")
    assert renewed.not_valid_after_utc > served.not_valid_after_utc
    # Rotated before expiry: the old one had time left when the new one was served.
    assert served.not_valid_after_utc > datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=2)
    create(kube_api, _rg("tls-after"))
    wait_ready(kube_api, USER, "tls-after")


def test_a_new_ca_keeps_the_previous_one_in_the_bundle_until_it_expires() -> None:
    validity = datetime.timedelta(hours=1)
    now = datetime.datetime.now(datetime.UTC)
    first = issue(["aso-webhook.aso-system.svc"], validity, now=now)
    same_ca = issue(["aso-webhook.aso-system.svc"], validity, first, now=now + validity)
    assert same_ca.ca == first.ca
    assert same_ca.cert != first.cert
    late = now + 9 * validity  # the CA would expire before the next certificate
    new_ca = issue(["aso-webhook.aso-system.svc"], validity, same_ca, now=late)
    assert new_ca.ca != first.ca
    assert new_ca.bundle(late) == new_ca.ca + first.ca
    assert new_ca.bundle(now + 11 * validity) == new_ca.ca
    san = x509.load_pem_x509_certificate(new_ca.cert).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert san.value.get_values_for_type(x509.DNSName) == ["aso-webhook.aso-system.svc"]
