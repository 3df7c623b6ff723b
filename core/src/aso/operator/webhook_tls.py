"""The conversion webhook's serving certificate without cert-manager.

The operator keeps a self-signed CA and a serving certificate in one Secret (``tls.crt``,
``tls.key``, ``ca.crt`` as cert-manager writes them, plus ``ca.key``), so every replica serves the
same certificate; it issues a new serving certificate when a third of its validity is left (a new
CA too when the CA would expire first), and puts the CA into ``caBundle`` of the CRDs it serves
conversion for. The Secret is written with the ``resourceVersion`` read: when replicas rotate at
once, one write wins and the others load the winner's. During a CA rotation the previous CA stays
in ``caBundle`` until it expires, so certificates of either CA are trusted.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import logging
import os
import ssl
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aso.operator.kubeapi import KubeApiError, KubeClient, resource_path

__all__ = ["CertificateSet", "WebhookCertificates", "issue"]

log = logging.getLogger("aso.operator.webhook_tls")
_UTC = datetime.UTC


@dataclass(frozen=True, kw_only=True)
class CertificateSet:
    """PEM bytes of the serving certificate, its key, the CA and the CA's key, and the bundle
    clients should trust (current CA, then the previous one while it is valid)."""

    cert: bytes
    key: bytes
    ca: bytes
    ca_key: bytes
    ca_previous: bytes = b""

    @property
    def not_after(self) -> datetime.datetime:
        return x509.load_pem_x509_certificate(self.cert).not_valid_after_utc

    @property
    def not_before(self) -> datetime.datetime:
        return x509.load_pem_x509_certificate(self.cert).not_valid_before_utc

    @property
    def ca_not_after(self) -> datetime.datetime:
        return x509.load_pem_x509_certificate(self.ca).not_valid_after_utc

    def bundle(self, now: datetime.datetime) -> bytes:
        previous = self.ca_previous
        if previous and x509.load_pem_x509_certificate(previous).not_valid_after_utc <= now:
            previous = b""
        return self.ca + previous

    def to_secret_data(self) -> dict[str, str]:
        data = {"tls.crt": self.cert, "tls.key": self.key, "ca.crt": self.ca, "ca.key": self.ca_key}
        if self.ca_previous:
            data["ca-previous.crt"] = self.ca_previous
        return {k: base64.b64encode(v).decode() for k, v in data.items()}

    @classmethod
    def from_secret_data(cls, data: dict[str, str]) -> CertificateSet | None:
        try:
            raw = {k: base64.b64decode(v) for k, v in data.items()}
            return cls(
                cert=raw["tls.crt"],
                key=raw["tls.key"],
                ca=raw["ca.crt"],
                ca_key=raw["ca.key"],
                ca_previous=raw.get("ca-previous.crt", b""),
            )
        except (KeyError, ValueError):
            return None


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _san(hosts: Iterable[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def issue(
    hosts: Sequence[str],
    validity: datetime.timedelta,
    previous: CertificateSet | None = None,
    now: datetime.datetime | None = None,
) -> CertificateSet:
    """A serving certificate for ``hosts`` valid for ``validity``, signed by ``previous``'s CA when
    that CA outlives the new certificate by a validity period, else by a new CA (10 validities)."""
    now = now or datetime.datetime.now(_UTC)
    skew = min(datetime.timedelta(minutes=5), validity / 4)  # clocks of the API server's nodes
    ca_cert_pem, ca_key_pem, ca_previous = b"", b"", b""
    if previous is not None and previous.ca_not_after > now + 2 * validity:
        ca_cert_pem, ca_key_pem, ca_previous = previous.ca, previous.ca_key, previous.ca_previous
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name("aso-webhook-ca"))
            .issuer_name(_name("aso-webhook-ca"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - skew)
            .not_valid_after(now + 10 * validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        ca_cert_pem, ca_key_pem = ca_cert.public_bytes(serialization.Encoding.PEM), _key_pem(ca_key)
        ca_previous = previous.ca if previous is not None else b""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key_loaded = serialization.load_pem_private_key(ca_key_pem, password=None)
    assert isinstance(ca_key_loaded, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - skew)
        .not_valid_after(now + validity)
        .add_extension(_san(hosts), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key_loaded, hashes.SHA256())
    )
    return CertificateSet(
        cert=cert.public_bytes(serialization.Encoding.PEM),
        key=_key_pem(key),
        ca=ca_cert_pem,
        ca_key=ca_key_pem,
        ca_previous=ca_previous,
    )


class WebhookCertificates:
    """Keeps the Secret, the TLS context and the CRDs' ``caBundle`` current; call ``refresh()``."""

    def __init__(
        self,
        kube: KubeClient,
        *,
        namespace: str,
        secret: str,
        hosts: Sequence[str],
        validity: float,
        crd_names: Sequence[str],
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.secret = secret
        self.hosts = list(hosts)
        self.validity = datetime.timedelta(seconds=validity)
        self.crd_names = list(crd_names)
        self.current: CertificateSet | None = None
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._dir = tempfile.mkdtemp(prefix="aso-webhook-")

    @property
    def check_interval(self) -> float:
        return max(0.5, min(3600.0, self.validity.total_seconds() / 10))

    def _due(self, certs: CertificateSet, now: datetime.datetime) -> bool:
        """True when a third of the certificate's validity is left (or it names other hosts)."""
        lifetime = certs.not_after - certs.not_before
        cert = x509.load_pem_x509_certificate(certs.cert)
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return True
        if san != _san(self.hosts):
            return True
        return certs.not_after - now < lifetime / 3

    async def _load_or_rotate(self) -> CertificateSet:
        path = resource_path("", "v1", "secrets", self.namespace)
        secret = await self.kube.get(f"{path}/{self.secret}")
        now = datetime.datetime.now(_UTC)
        stored = CertificateSet.from_secret_data(secret.get("data") or {}) if secret else None
        if stored is not None and not self._due(stored, now):
            return stored
        fresh = issue(self.hosts, self.validity, stored, now)
        try:
            if secret is None:
                body = {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": self.secret, "namespace": self.namespace},
                    "type": "kubernetes.io/tls",
                    "data": fresh.to_secret_data(),
                }
                await self.kube.request("POST", path, body)
            else:
                await self.kube.request(
                    "PUT", f"{path}/{self.secret}", {**secret, "data": fresh.to_secret_data()}
                )
        except KubeApiError as exc:
            if exc.status != 409:
                raise
            # Another replica wrote first: serve what it wrote.
            winner = await self.kube.get(f"{path}/{self.secret}")
            loaded = CertificateSet.from_secret_data((winner or {}).get("data") or {})
            if loaded is None:
                raise
            return loaded
        log.info("issued webhook certificate valid until %s", fresh.not_after.isoformat())
        return fresh

    async def refresh(self) -> None:
        """Load (or issue) the certificate, serve it, and patch ``caBundle`` where it differs."""
        certs = await self._load_or_rotate()
        if certs != self.current:
            self._serve(certs)
            self.current = certs
        await self._patch_crds(certs.bundle(datetime.datetime.now(_UTC)))

    def _serve(self, certs: CertificateSet) -> None:
        """New handshakes use the new certificate; open connections keep theirs. (ssl loads a
        chain only from files: two small writes to a private directory.)"""
        cert_path, key_path = os.path.join(self._dir, "tls.crt"), os.path.join(self._dir, "tls.key")
        with open(key_path, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(certs.key)
        with open(cert_path, "wb") as f:
            f.write(certs.cert)
        self.context.load_cert_chain(cert_path, key_path)

    async def _patch_crds(self, bundle: bytes) -> None:
        encoded = base64.b64encode(bundle).decode()
        for name in self.crd_names:
            path = resource_path("apiextensions.k8s.io", "v1", "customresourcedefinitions", None, name)
            crd = await self.kube.get(path)
            if crd is None:
                continue
            conversion = (crd.get("spec") or {}).get("conversion") or {}
            if conversion.get("strategy") != "Webhook":
                continue
            config = (conversion.get("webhook") or {}).get("clientConfig") or {}
            if config.get("caBundle") == encoded:
                continue
            patch = {"spec": {"conversion": {"webhook": {"clientConfig": {"caBundle": encoded}}}}}
            await self.kube.merge_patch(path, patch)
            log.info("patched caBundle of %s", name)
