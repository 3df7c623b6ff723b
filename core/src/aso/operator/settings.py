"""Operator settings, read from the environment with ASO v2's names where ASO has one."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["PUBLIC_AUTHORITIES", "Settings", "SettingsError", "parse_duration"]

#: Authority hosts of the public Azure clouds; anywhere else instance discovery is disabled.
PUBLIC_AUTHORITIES = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)
POLICIES = ("manage", "skip", "detach-on-delete")
_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$")


class SettingsError(ValueError):
    """A setting has a value the operator cannot use; the message names the variable."""


def parse_duration(name: str, text: str) -> float | None:
    """Seconds in ``text`` (``3600``, ``90s``, ``15m``, ``1h30m``); None for ``never``."""
    value = text.strip().lower()
    if value == "never":
        return None
    try:
        seconds = float(value)
    except ValueError:
        match = _DURATION.match(value)
        if not match or not any(match.groups()):
            raise SettingsError(
                f"{name}={text!r}: expected seconds, a duration such as '15m' or '1h', or 'never'"
            ) from None
        hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise SettingsError(f"{name}={text!r}: must be positive (or 'never')")
    return seconds


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a number") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r}: must be positive")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise SettingsError(f"{name}={raw!r}: expected true or false")


def _address(env: Mapping[str, str], name: str, default: str) -> tuple[str, int] | None:
    raw = env.get(name, default).strip()
    if raw in ("", "0", "off"):
        return None
    host, sep, port = raw.rpartition(":")
    if not sep or not port.isdigit():
        raise SettingsError(f"{name}={raw!r}: expected host:port (port 0 picks a free port) or 'off'")
    return (host or "0.0.0.0", int(port))


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the operator is configured with; see ``from_env`` for the variable names."""

    subscription_id: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    client_certificate_path: str | None = None
    client_certificate_password: str | None = None
    federated_token_file: str | None = None
    use_managed_identity: bool = False
    arm_endpoint: str = "https://management.azure.com/"
    arm_audience: str = "https://management.core.windows.net/"
    authority_host: str = "https://login.microsoftonline.com/"
    ca_bundle: str | None = None
    sync_period: float | None = 3600.0
    sync_jitter: float = 0.1
    max_concurrent_reconciles: int = 10
    arm_rate: float = 20.0
    arm_burst: float = 100.0
    default_reconcile_policy: str = "manage"
    namespaces: tuple[str, ...] = ()
    label_selector: str | None = None
    kubeconfig: str | None = None
    retry_max_delay: float = 300.0
    metrics_address: tuple[str, int] | None = ("0.0.0.0", 8080)
    webhook_address: tuple[str, int] | None = None
    webhook_cert: str | None = None
    webhook_key: str | None = None
    webhook_cert_secret: str | None = None
    webhook_cert_namespace: str | None = None
    webhook_hosts: tuple[str, ...] = ()
    webhook_cert_validity: float = 90 * 24 * 3600.0
    leader_election: bool = False
    leader_election_namespace: str | None = None
    leader_election_id: str = "aso-leader"
    leader_election_identity: str | None = None
    lease_duration: float = 15.0
    lease_renew_deadline: float = 10.0
    lease_retry_period: float = 2.0
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def arm_scope(self) -> str:
        return self.arm_audience.rstrip("/") + "/.default"

    @property
    def arm_origin(self) -> tuple[str, str, int]:
        """(scheme, host, port) of the ARM endpoint: the only place a bearer token is ever sent."""
        return _origin(self.arm_endpoint)

    @property
    def instance_discovery(self) -> bool:
        return (urlsplit(self.authority_host).hostname or "") in PUBLIC_AUTHORITIES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        sync_raw = e.get("AZURE_SYNC_PERIOD", "1h")
        policy = e.get("ASO_DEFAULT_RECONCILE_POLICY", "manage")
        if policy not in POLICIES:
            raise SettingsError(
                f"ASO_DEFAULT_RECONCILE_POLICY={policy!r}: expected one of {', '.join(POLICIES)}"
            )
        concurrency_raw = e.get("MAX_CONCURRENT_RECONCILES", "10")
        if not concurrency_raw.isdigit() or int(concurrency_raw) < 1:
            raise SettingsError(f"MAX_CONCURRENT_RECONCILES={concurrency_raw!r}: expected a positive integer")
        arm_endpoint = e.get("AZURE_RESOURCE_MANAGER_ENDPOINT", cls.arm_endpoint)
        if urlsplit(arm_endpoint).scheme != "https":
            raise SettingsError(f"AZURE_RESOURCE_MANAGER_ENDPOINT={arm_endpoint!r}: must be an https URL")
        namespaces = tuple(n.strip() for n in e.get("AZURE_TARGET_NAMESPACES", "").split(",") if n.strip())
        webhook_hosts = tuple(h.strip() for h in e.get("ASO_WEBHOOK_HOSTS", "").split(",") if h.strip())
        if e.get("ASO_WEBHOOK_CERT_SECRET") and not webhook_hosts:
            raise SettingsError(
                "ASO_WEBHOOK_CERT_SECRET needs ASO_WEBHOOK_HOSTS (the webhook Service's DNS names, "
                "e.g. aso-webhook.aso-system.svc)"
            )
        validity = parse_duration("ASO_WEBHOOK_CERT_VALIDITY", e.get("ASO_WEBHOOK_CERT_VALIDITY", "2160h"))
        if validity is None:
            raise SettingsError("ASO_WEBHOOK_CERT_VALIDITY='never': a certificate needs an expiry")
        label_selector = _label_selector(e.get("ASO_LABEL_SELECTOR", ""))
        lease_duration = _float(e, "ASO_LEASE_DURATION", cls.lease_duration)
        renew_deadline = _float(e, "ASO_LEASE_RENEW_DEADLINE", cls.lease_renew_deadline)
        if renew_deadline >= lease_duration:
            raise SettingsError(
                f"ASO_LEASE_RENEW_DEADLINE={renew_deadline:g} must be below "
                f"ASO_LEASE_DURATION={lease_duration:g}"
                " (a leader must give up before a standby may take over)"
            )
        return cls(
            subscription_id=e.get("AZURE_SUBSCRIPTION_ID") or None,
            tenant_id=e.get("AZURE_TENANT_ID") or None,
            client_id=e.get("AZURE_CLIENT_ID") or None,
            client_secret=e.get("AZURE_CLIENT_SECRET") or None,
            client_certificate_path=e.get("AZURE_CLIENT_CERTIFICATE_PATH") or None,
            client_certificate_password=e.get("AZURE_CLIENT_CERTIFICATE_PASSWORD") or None,
            federated_token_file=e.get("AZURE_FEDERATED_TOKEN_FILE") or None,
            use_managed_identity=_bool(e, "ASO_USE_MANAGED_IDENTITY"),
            arm_endpoint=arm_endpoint,
            arm_audience=e.get("AZURE_RESOURCE_MANAGER_AUDIENCE", cls.arm_audience),
            authority_host=e.get("AZURE_AUTHORITY_HOST", cls.authority_host),
            ca_bundle=e.get("ASO_CA_BUNDLE") or e.get("SSL_CERT_FILE") or e.get("REQUESTS_CA_BUNDLE") or None,
            sync_period=parse_duration("AZURE_SYNC_PERIOD", sync_raw),
            max_concurrent_reconciles=int(concurrency_raw),
            arm_rate=_float(e, "ASO_ARM_RATE_LIMIT", cls.arm_rate),
            arm_burst=_float(e, "ASO_ARM_RATE_BURST", cls.arm_burst),
            default_reconcile_policy=policy,
            namespaces=namespaces,
            label_selector=label_selector,
            kubeconfig=e.get("KUBECONFIG") or None,
            retry_max_delay=_float(e, "ASO_RETRY_MAX_DELAY", cls.retry_max_delay),
            metrics_address=_address(e, "ASO_METRICS_ADDRESS", "0.0.0.0:8080"),
            webhook_address=_address(e, "ASO_WEBHOOK_ADDRESS", "off"),
            webhook_cert=e.get("ASO_WEBHOOK_CERT") or None,
            webhook_key=e.get("ASO_WEBHOOK_KEY") or None,
            webhook_cert_secret=e.get("ASO_WEBHOOK_CERT_SECRET") or None,
            webhook_cert_namespace=e.get("ASO_WEBHOOK_CERT_NAMESPACE") or None,
            webhook_hosts=webhook_hosts,
            webhook_cert_validity=validity,
            leader_election=_bool(e, "ASO_LEADER_ELECTION"),
            leader_election_namespace=e.get("ASO_LEADER_ELECTION_NAMESPACE") or None,
            leader_election_id=e.get("ASO_LEADER_ELECTION_ID") or cls.leader_election_id,
            leader_election_identity=e.get("ASO_LEADER_ELECTION_IDENTITY") or None,
            lease_duration=lease_duration,
            lease_renew_deadline=renew_deadline,
            lease_retry_period=_float(e, "ASO_LEASE_RETRY_PERIOD", cls.lease_retry_period),
        )


_SELECTOR_TERM = re.compile(
    r"^\s*(?:!?\s*[A-Za-z0-9_./-]+|[A-Za-z0-9_./-]+\s*(?:==|=|!=)\s*[A-Za-z0-9_.-]*"
    r"|[A-Za-z0-9_./-]+\s+(?:in|notin)\s*\([A-Za-z0-9_.,\s-]*\))\s*$"
)


def _label_selector(raw: str) -> str | None:
    """ASO_LABEL_SELECTOR as Kubernetes writes one (``shard=a``, ``tier in (x,y)``, ``!legacy``),
    checked here so a typo stops the start instead of failing every watch."""
    if not raw.strip():
        return None
    terms = re.split(r",(?![^()]*\))", raw)
    bad = [t for t in terms if not _SELECTOR_TERM.match(t)]
    if bad:
        raise SettingsError(f"ASO_LABEL_SELECTOR={raw!r}: {bad[0].strip()!r} is not a label requirement")
    return ",".join(t.strip() for t in terms)


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def same_origin(url: str, settings: Settings) -> bool:
    """True when ``url`` points at the configured ARM endpoint (scheme, host and port); a URL that
    does not parse (a port that is not a number, say) points nowhere we send a token."""
    try:
        return _origin(url) == settings.arm_origin
    except ValueError:
        return False
