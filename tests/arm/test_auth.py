"""Tokens and access: real azure-identity credentials against the emulator's token endpoint."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import CertificateCredential, ClientAssertionCredential, ClientSecretCredential
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from aso.testing.arm import ArmEmulatorHandle, EmulatorThread
from aso.testing.certs import self_signed

from .conftest import error_code


def test_token_for_every_scope_real_clients_use(arm_emulator: ArmEmulatorHandle) -> None:
    cred = arm_emulator.credential()
    for scope in (
        "https://management.azure.com/.default",
        "https://management.core.windows.net//.default",
        f"{arm_emulator.endpoint}/.default",
    ):
        token = cred.get_token(scope)
        assert token.token.count(".") == 2
        assert token.expires_on > time.time() + 3000


def test_unknown_scope_and_wrong_secret_are_refused(arm_emulator: ArmEmulatorHandle) -> None:
    with pytest.raises(ClientAuthenticationError):
        arm_emulator.credential().get_token("https://vault.azure.net/.default")
    with pytest.raises(ClientAuthenticationError, match="7000215"):
        arm_emulator.credential(client_secret="wrong").get_token("https://management.azure.com/.default")


def _raw(
    arm_emulator: ArmEmulatorHandle, path: str, token: str | None = None, method: str = "GET"
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(
        method, arm_emulator.endpoint + path, headers=headers, verify=arm_emulator.ca_bundle, timeout=10
    )


def test_requests_without_a_valid_token_get_401(arm_emulator: ArmEmulatorHandle) -> None:
    path = f"/subscriptions/{arm_emulator.subscription_id}/resourcegroups?api-version=2020-06-01"
    for token in (
        None,
        "not-a-jwt",
        jwt.encode({"appid": "x", "tid": "y"}, "a-different-signing-key-of-32-bytes!!", algorithm="HS256"),
    ):
        resp = _raw(arm_emulator, path, token)
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_expired_token(tmp_path: Path) -> None:
    runner = EmulatorThread(state_dir=tmp_path)
    arm = runner.start()
    try:
        token = arm.credential().get_token("https://management.azure.com/.default").token
        claims = jwt.decode(token, options={"verify_signature": False})
        key = bytes.fromhex((tmp_path / "signing.key").read_text())
        expired = jwt.encode({**claims, "exp": int(time.time()) - 60}, key, algorithm="HS256")
        path = f"/subscriptions/{arm.subscription_id}/resourcegroups?api-version=2020-06-01"
        resp = _raw(arm, path, expired)
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == "ExpiredAuthenticationToken"
        assert _raw(arm, path, token).status_code == 200
    finally:
        runner.stop()


def test_api_version_is_required(arm_emulator: ArmEmulatorHandle) -> None:
    token = arm_emulator.credential().get_token("https://management.azure.com/.default").token
    resp = _raw(arm_emulator, f"/subscriptions/{arm_emulator.subscription_id}/resourcegroups/x", token)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "MissingApiVersionParameter"


def test_subscription_access_is_per_principal(arm_emulator: ArmEmulatorHandle) -> None:
    other_sub = str(uuid.uuid4())
    client_id, secret = str(uuid.uuid4()), "s3cret-value"
    arm_emulator.control.add_principal(client_id, secret, [other_sub])
    other = arm_emulator.credential(client_id=client_id, client_secret=secret)
    # Its own subscription works...
    mine = arm_emulator.resource_client(subscription_id=other_sub, credential=other)
    assert mine.resource_groups.create_or_update("g", {"location": "westus"}).name == "g"
    # ...the default principal's does not: 403 AuthorizationFailed.
    theirs = arm_emulator.resource_client(credential=other)
    with pytest.raises(HttpResponseError) as info:
        theirs.resource_groups.get("g")
    assert info.value.status_code == 403
    assert error_code(info.value) == "AuthorizationFailed"
    # Granted at run time, it works without a new token.
    arm_emulator.control.add_subscription(arm_emulator.subscription_id, principals=[client_id])
    theirs.resource_groups.create_or_update("g2", {"location": "westus"})
    # A removed principal's tokens stop working.
    arm_emulator.control.remove_principal(client_id)
    with pytest.raises(ClientAuthenticationError):
        mine.resource_groups.get("g")


def _self_signed() -> tuple[bytes, str]:
    cert = self_signed()
    return cert.bundle, cert.cert_pem.decode()


def test_certificate_credential(arm_emulator: ArmEmulatorHandle) -> None:
    bundle, cert_pem = _self_signed()
    client_id = str(uuid.uuid4())
    arm_emulator.control.add_principal(
        client_id, None, [arm_emulator.subscription_id], certificate_pem=cert_pem
    )
    cred = CertificateCredential(
        arm_emulator.tenant_id,
        client_id,
        certificate_data=bundle,
        **arm_emulator.identity_kwargs(),
    )
    client = arm_emulator.resource_client(credential=cred)
    assert client.resource_groups.create_or_update("cert-rg", {"location": "westus2"}).name == "cert-rg"
    # A certificate the principal does not have is refused.
    other_bundle, _ = _self_signed()
    wrong = CertificateCredential(
        arm_emulator.tenant_id,
        client_id,
        certificate_data=other_bundle,
        **arm_emulator.identity_kwargs(),
    )
    with pytest.raises(ClientAuthenticationError):
        wrong.get_token("https://management.azure.com/.default")


def test_workload_identity_federation(arm_emulator: ArmEmulatorHandle) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    issuer, subject = "https://kubernetes.default.svc", "system:serviceaccount:aso:operator"
    client_id = str(uuid.uuid4())
    arm_emulator.control.add_principal(
        client_id,
        None,
        [arm_emulator.subscription_id],
        federated=[
            {
                "issuer": issuer,
                "subject": subject,
                "audience": "api://AzureADTokenExchange",
                "public_key_pem": public_pem,
            }
        ],
    )

    def service_account_token(sub: str = subject) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "sub": sub,
            "aud": "api://AzureADTokenExchange",
            "iat": now,
            "exp": now + 600,
        }
        return jwt.encode(claims, key, algorithm="RS256")

    cred = ClientAssertionCredential(
        arm_emulator.tenant_id,
        client_id,
        service_account_token,
        **arm_emulator.identity_kwargs(),
    )
    client = arm_emulator.resource_client(credential=cred)
    assert client.resource_groups.create_or_update("wi-rg", {"location": "westus2"}).name == "wi-rg"
    impostor = ClientAssertionCredential(
        arm_emulator.tenant_id,
        client_id,
        lambda: service_account_token("system:serviceaccount:other:sa"),
        **arm_emulator.identity_kwargs(),
    )
    with pytest.raises(ClientAuthenticationError):
        impostor.get_token("https://management.azure.com/.default")


def test_secret_credential_built_by_hand(arm_emulator: ArmEmulatorHandle) -> None:
    """The exact construction the README documents."""
    cred = ClientSecretCredential(
        arm_emulator.tenant_id,
        arm_emulator.client_id,
        arm_emulator.client_secret,
        authority=arm_emulator.endpoint,
        disable_instance_discovery=True,
        connection_verify=arm_emulator.ca_bundle,
    )
    assert cred.get_token("https://management.azure.com/.default").token
