"""Which Azure credential an object uses, and the azure-identity credential built from it.

Resolution order, as ASO v2: the Secret named by the object's ``credential-from`` annotation (same
namespace only), else the Secret ``aso-credential`` in the object's namespace, else the operator's
global credential. Keys follow ASO: ``AZURE_SUBSCRIPTION_ID``, ``AZURE_TENANT_ID``,
``AZURE_CLIENT_ID`` and ``AZURE_CLIENT_SECRET`` or ``AZURE_CLIENT_CERTIFICATE`` (PEM, with
``AZURE_CLIENT_CERTIFICATE_PASSWORD``); with neither, workload identity (the operator's federated
token file). A managed-identity credential is built only when explicitly configured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential

from aso.errors import PermanentError
from aso.operator.settings import Settings

__all__ = ["CREDENTIAL_FROM_ANNOTATION", "NAMESPACE_SECRET", "CredentialSpec", "build_credential"]

CREDENTIAL_FROM_ANNOTATION = "serviceoperator.azure.com/credential-from"
NAMESPACE_SECRET = "aso-credential"


@dataclass(frozen=True, kw_only=True)
class CredentialSpec:
    """A credential and the subscription it is for; ``source`` says where it came from."""

    source: str
    subscription_id: str
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    certificate: bytes | None = None
    certificate_path: str | None = None
    certificate_password: str | None = None
    federated_token_file: str | None = None
    managed_identity: bool = False

    @property
    def cache_key(self) -> str:
        material = "|".join(
            str(x)
            for x in (
                self.subscription_id,
                self.tenant_id,
                self.client_id,
                self.client_secret,
                self.certificate,
                self.certificate_path,
                self.certificate_password,
                self.federated_token_file,
                self.managed_identity,
            )
        )
        return hashlib.sha256(material.encode()).hexdigest()

    @classmethod
    def global_(cls, settings: Settings) -> CredentialSpec:
        if not settings.subscription_id:
            raise PermanentError(
                "no credential: set AZURE_SUBSCRIPTION_ID (and a credential) for the operator, or create the "
                f"Secret {NAMESPACE_SECRET!r} in this namespace",
                reason="CredentialNotFound",
            )
        return cls(
            source="global",
            subscription_id=settings.subscription_id,
            tenant_id=settings.tenant_id,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            certificate_path=settings.client_certificate_path,
            certificate_password=settings.client_certificate_password,
            federated_token_file=settings.federated_token_file,
            managed_identity=settings.use_managed_identity,
        )

    @classmethod
    def from_secret(cls, data: Mapping[str, str], source: str, settings: Settings) -> CredentialSpec:
        missing = [
            k for k in ("AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_ID") if not data.get(k)
        ]
        if missing:
            raise PermanentError(
                f"credential {source}: missing key(s) {', '.join(missing)}; needed: AZURE_SUBSCRIPTION_ID, "
                "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE "
                "(or neither, for workload identity)",
                reason="InvalidCredential",
            )
        certificate = data.get("AZURE_CLIENT_CERTIFICATE")
        return cls(
            source=source,
            subscription_id=data["AZURE_SUBSCRIPTION_ID"],
            tenant_id=data["AZURE_TENANT_ID"],
            client_id=data["AZURE_CLIENT_ID"],
            client_secret=data.get("AZURE_CLIENT_SECRET") or None,
            certificate=certificate.encode() if certificate else None,
            certificate_password=data.get("AZURE_CLIENT_CERTIFICATE_PASSWORD") or None,
            federated_token_file=settings.federated_token_file,
        )


def build_credential(spec: CredentialSpec, settings: Settings) -> AsyncTokenCredential:
    """The azure-identity async credential for ``spec``; never one that probes instance metadata
    unless managed identity was configured on purpose."""
    from azure.identity import aio as identity

    common: dict[str, Any] = {
        "authority": settings.authority_host,
        "disable_instance_discovery": not settings.instance_discovery,
    }
    if settings.ca_bundle:
        common["connection_verify"] = settings.ca_bundle
    if spec.tenant_id and spec.client_id and spec.client_secret:
        return identity.ClientSecretCredential(spec.tenant_id, spec.client_id, spec.client_secret, **common)
    if spec.tenant_id and spec.client_id and (spec.certificate or spec.certificate_path):
        return identity.CertificateCredential(
            spec.tenant_id,
            spec.client_id,
            certificate_path=spec.certificate_path,
            certificate_data=spec.certificate,
            password=spec.certificate_password,
            **common,
        )
    if spec.tenant_id and spec.client_id and spec.federated_token_file:
        return identity.WorkloadIdentityCredential(
            tenant_id=spec.tenant_id,
            client_id=spec.client_id,
            token_file_path=spec.federated_token_file,
            **common,
        )
    if spec.managed_identity:
        return identity.ManagedIdentityCredential(client_id=spec.client_id)
    raise PermanentError(
        f"credential {spec.source}: no usable credential (need a client secret, a certificate, or workload "
        "identity with AZURE_FEDERATED_TOKEN_FILE)",
        reason="InvalidCredential",
    )
