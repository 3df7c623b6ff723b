"""Identity for the emulator: principals, subscriptions, an AAD-like token endpoint, token checks.

The token endpoint speaks enough of Microsoft Entra ID's v2.0 protocol for azure-identity and
MSAL: OpenID discovery, ``client_credentials`` with a client secret or a ``client_assertion``
(certificate-signed, or a federated workload-identity token). Access tokens are JWTs signed
with an HMAC key that lives in the state directory, so tokens survive a restart with ``--state``.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key

TOKEN_LIFETIME = 3600
# ARM answers an expired token with its own code (ExpiredAuthenticationToken); see ``verify``.
EXPIRED = "The access token expiry UTC time is earlier than current UTC time."
# Audiences real clients ask for; the emulator's own URL is added at run time.
KNOWN_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")


class TokenRequestError(Exception):
    """An error answered by the token endpoint, in Entra ID's shape."""

    def __init__(self, status: int, error: str, description: str, aadsts: int) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = f"AADSTS{aadsts}: {description}"
        self.aadsts = aadsts

    def body(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "error_description": self.description,
            "error_codes": [self.aadsts],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }


@dataclass(kw_only=True)
class FederatedCredential:
    """A workload-identity federation: assertions from ``issuer`` about ``subject`` are accepted.

    With ``public_key_pem`` the assertion's signature is checked; without it only its claims
    (issuer, subject, audience when given, expiry) are.
    """

    issuer: str
    subject: str
    audience: str | None = None
    public_key_pem: str | None = None


@dataclass(kw_only=True)
class Principal:
    """A service principal: who may ask for tokens, and which subscriptions it may use."""

    tenant_id: str
    client_id: str
    client_secret: str | None = None
    subscriptions: list[str] = field(default_factory=list)
    certificate_pem: str | None = None
    federated: list[FederatedCredential] = field(default_factory=list)

    @property
    def object_id(self) -> str:
        # Stable, distinct from the client id, like an Entra service principal's object id.
        return str(uuid.UUID(hashlib.sha256(f"{self.tenant_id}/{self.client_id}".encode()).hexdigest()[:32]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "subscriptions": list(self.subscriptions),
            "certificate_pem": self.certificate_pem,
            "federated": [vars(f) for f in self.federated],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Principal:
        return cls(
            tenant_id=str(d["tenant_id"]),
            client_id=str(d["client_id"]),
            client_secret=d.get("client_secret"),
            subscriptions=[str(s) for s in d.get("subscriptions") or []],
            certificate_pem=d.get("certificate_pem"),
            federated=[FederatedCredential(**f) for f in d.get("federated") or []],
        )


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent an ARM request, from its verified token."""

    tenant_id: str
    client_id: str
    object_id: str


class Identity:
    """Principals and subscriptions, token issuing and verification."""

    def __init__(self, signing_key: bytes, endpoint: str = "") -> None:
        self._key = signing_key
        self.endpoint = endpoint
        self._principals: dict[tuple[str, str], Principal] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        # Verified tokens, so a request costs one dict lookup instead of an HMAC check.
        self._verified: dict[str, tuple[Caller, float]] = {}

    # Principals and subscriptions ---------------------------------------------------------

    def add_principal(self, p: Principal) -> None:
        self._principals[(p.tenant_id.lower(), p.client_id.lower())] = p
        for sub in p.subscriptions:
            self.add_subscription(sub, p.tenant_id)
        self._verified.clear()

    def remove_principal(self, tenant_id: str, client_id: str) -> None:
        self._principals.pop((tenant_id.lower(), client_id.lower()), None)
        self._verified.clear()

    def principals(self) -> list[Principal]:
        return list(self._principals.values())

    def principal(self, tenant_id: str, client_id: str) -> Principal | None:
        return self._principals.get((tenant_id.lower(), client_id.lower()))

    def tenants(self) -> set[str]:
        return {t for t, _ in self._principals}

    def add_subscription(self, subscription_id: str, tenant_id: str, display_name: str | None = None) -> None:
        self.subscriptions.setdefault(
            subscription_id.lower(),
            {
                "id": f"/subscriptions/{subscription_id}",
                "subscriptionId": subscription_id,
                "tenantId": tenant_id,
                "displayName": display_name or f"Emulated subscription {subscription_id[:8]}",
                "state": "Enabled",
            },
        )

    def grant(self, tenant_id: str, client_id: str, subscriptions: Iterable[str]) -> None:
        p = self.principal(tenant_id, client_id)
        if p is None:
            raise KeyError(client_id)
        for s in subscriptions:
            if s.lower() not in (x.lower() for x in p.subscriptions):
                p.subscriptions.append(s)
            self.add_subscription(s, p.tenant_id)

    def may_use(self, caller: Caller, subscription_id: str) -> bool:
        p = self.principal(caller.tenant_id, caller.client_id)
        return p is not None and subscription_id.lower() in (s.lower() for s in p.subscriptions)

    def subscriptions_of(self, caller: Caller) -> list[dict[str, Any]]:
        p = self.principal(caller.tenant_id, caller.client_id)
        if p is None:
            return []
        return [self.subscriptions[s.lower()] for s in p.subscriptions if s.lower() in self.subscriptions]

    # Token endpoint ----------------------------------------------------------------------

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        base = f"{self.endpoint}/{tenant}"
        return {
            "issuer": f"{base}/v2.0",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{self.endpoint}/{tenant}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "emulator",
        }

    def _audience(self, scope: str) -> str:
        for s in scope.split():
            if not s.endswith("/.default"):
                continue
            resource = s[: -len("/.default")].rstrip("/")
            allowed = {a.rstrip("/") for a in (*KNOWN_AUDIENCES, self.endpoint)}
            if resource in allowed:
                return resource + "/"
        raise TokenRequestError(
            400,
            "invalid_scope",
            f"The provided value for scope '{scope}' is not valid. Ask for the Azure Resource Manager "
            "'/.default' scope.",
            70011,
        )

    def issue(self, tenant: str, form: Mapping[str, str]) -> dict[str, Any]:
        """Answer a token request (``grant_type=client_credentials``)."""
        if tenant.lower() not in self.tenants():
            raise TokenRequestError(400, "invalid_request", f"Tenant '{tenant}' not found.", 90002)
        if form.get("grant_type") != "client_credentials":
            raise TokenRequestError(
                400, "unsupported_grant_type", "The emulator supports client_credentials only.", 70003
            )
        client_id = form.get("client_id", "")
        assertion = form.get("client_assertion")
        principal = self.principal(tenant, client_id)
        if principal is None and assertion:
            # MSAL may leave client_id out when the assertion carries it.
            try:
                sub = jwt.decode(assertion, options={"verify_signature": False}).get("sub", "")
            except jwt.PyJWTError:
                sub = ""
            principal = self.principal(tenant, str(sub))
        if principal is None:
            raise TokenRequestError(
                400,
                "unauthorized_client",
                f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
                700016,
            )
        if assertion:
            self._check_assertion(principal, assertion, form.get("client_assertion_type", ""))
        else:
            secret = form.get("client_secret")
            if not secret or principal.client_secret is None or secret != principal.client_secret:
                raise TokenRequestError(
                    401,
                    "invalid_client",
                    "Invalid client secret provided. Ensure the secret being sent in the request is the "
                    "client secret value, not the client secret ID, for a secret added to app "
                    f"'{client_id}'.",
                    7000215,
                )
        aud = self._audience(form.get("scope", ""))
        now = int(time.time())
        claims = {
            "aud": aud,
            "iss": f"https://sts.windows.net/{principal.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            "appid": principal.client_id,
            "oid": principal.object_id,
            "sub": principal.object_id,
            "tid": principal.tenant_id,
            "idtyp": "app",
            "ver": "1.0",
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._key, algorithm="HS256")
        return {
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "ext_expires_in": TOKEN_LIFETIME,
            "access_token": token,
        }

    def _check_assertion(self, p: Principal, assertion: str, assertion_type: str) -> None:
        if assertion_type != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            raise TokenRequestError(400, "invalid_request", "Unsupported client_assertion_type.", 50027)

        def bad(why: str) -> TokenRequestError:
            return TokenRequestError(
                401, "invalid_client", f"Client assertion failed validation: {why}", 700027
            )

        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise bad(str(exc)) from exc
        issuer = str(unverified.get("iss", ""))
        if issuer.lower() == p.client_id.lower():
            # Certificate credential: a JWT issued by the client itself, signed with the
            # certificate's private key.
            if not p.certificate_pem:
                raise bad("no certificate is registered for this application")
            cert = x509.load_pem_x509_certificate(p.certificate_pem.encode())
            try:
                jwt.decode(
                    assertion,
                    key=cert.public_key(),  # type: ignore[arg-type]
                    algorithms=["RS256", "PS256"],
                    options={"verify_aud": False},
                )
            except jwt.PyJWTError as exc:
                raise bad(f"signature or claims invalid ({exc})") from exc
            return
        for fed in p.federated:
            if fed.issuer != issuer or fed.subject != unverified.get("sub"):
                continue
            try:
                if fed.public_key_pem:
                    jwt.decode(
                        assertion,
                        key=load_pem_public_key(fed.public_key_pem.encode()),  # type: ignore[arg-type]
                        algorithms=["RS256", "ES256", "PS256"],
                        audience=fed.audience,
                        options={"verify_aud": fed.audience is not None},
                    )
                else:
                    jwt.decode(
                        assertion,
                        options={"verify_signature": False, "verify_exp": True, "verify_aud": False},
                    )
                    if fed.audience is not None:
                        aud = unverified.get("aud")
                        auds = aud if isinstance(aud, list) else [aud]
                        if fed.audience not in auds:
                            raise bad("audience does not match the federated credential")
            except jwt.PyJWTError as exc:
                raise bad(str(exc)) from exc
            return
        raise bad(f"no federated credential matches issuer '{issuer}' and subject '{unverified.get('sub')}'")

    # Token verification (every ARM request) ----------------------------------------------

    def verify(self, authorization: str | None) -> Caller | str:
        """The caller of a request, or why its token is not acceptable."""
        if not authorization:
            return "Authentication failed. The 'Authorization' header is missing."
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "Authentication failed. The 'Authorization' header is not a Bearer token."
        hit = self._verified.get(token)
        now = time.time()
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                options={"verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            return EXPIRED
        except jwt.PyJWTError:
            return "The access token is invalid."
        if self.principal(claims["tid"], claims["appid"]) is None:
            return "The access token is from a principal the directory no longer knows."
        caller = Caller(tenant_id=claims["tid"], client_id=claims["appid"], object_id=claims["oid"])
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[token] = (caller, float(claims["exp"]))
        return caller

    def dump(self) -> dict[str, Any]:
        return {
            "principals": [p.to_dict() for p in self._principals.values()],
            "subscriptions": list(self.subscriptions.values()),
        }

    def load(self, data: Mapping[str, Any]) -> None:
        for s in data.get("subscriptions", []):
            self.subscriptions[s["subscriptionId"].lower()] = dict(s)
        for p in data.get("principals", []):
            self.add_principal(Principal.from_dict(p))
