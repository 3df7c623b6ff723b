"""ARM requests through the Azure SDK's async pipeline (azure-core + azure-mgmt-core policies).

The reconciler needs raw ARM semantics that the generated clients hide: the status code that tells
created from updated, the ``Azure-AsyncOperation``/``Location`` headers of a long-running operation
(persisted on the object before polling, so that a restart resumes it), and bodies with every field
the service returns. So requests go through an ``AsyncPipelineClient`` with ARM's bearer-token
challenge policy, a per-subscription token bucket and metrics, and the operation is followed here.
A bearer token is only ever sent to the configured ARM endpoint.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.core import AsyncPipelineClient
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import (
    AsyncHTTPPolicy,
    HeadersPolicy,
    RequestIdPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import AsyncHttpTransport
from azure.core.rest import HttpRequest
from azure.mgmt.core.policies import AsyncARMChallengeAuthenticationPolicy

from aso import __version__
from aso.errors import ArmError
from aso.operator import metrics
from aso.operator.armid import resource_type_of, url_path
from aso.operator.settings import Settings, same_origin

__all__ = ["AUTHENTICATION_FAILED", "ArmClient", "ArmClients", "ArmError", "ArmResponse", "RateLimiter"]

#: The error code (and condition reason) of a credential that could not get a token.
AUTHENTICATION_FAILED = "AuthenticationFailed"
_AADSTS = re.compile(r"AADSTS\d+:[^\r\n]*")


def _token_failure(exc: ClientAuthenticationError) -> str:
    """The Entra ID error (``AADSTS7000215: Invalid client secret provided...``) when there is one."""
    text = str(exc)
    found = _AADSTS.search(text)
    line = found.group(0) if found else (text.splitlines() or ["could not get a token"])[0]
    return f"the credential could not get a token: {line.strip()[:500]}"


@dataclass(frozen=True)
class ArmResponse:
    status: int
    headers: Mapping[str, str]
    body: Any

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    @property
    def retry_after(self) -> float | None:
        return _retry_after(self.header("Retry-After"))


def _retry_after(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


class RateLimiter:
    """Token buckets per subscription, shared by every worker: ``rate`` requests/s, ``burst`` at once."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, subscription: str) -> None:
        while True:
            async with self._lock:
                now = time.monotonic()
                tokens, stamp = self._buckets.get(subscription, (self.burst, now))
                tokens = min(self.burst, tokens + (now - stamp) * self.rate)
                if tokens >= 1:
                    self._buckets[subscription] = (tokens - 1, now)
                    return
                self._buckets[subscription] = (tokens, now)
                wait = (1 - tokens) / self.rate
            await asyncio.sleep(wait)


class _LimitAndMeasure(AsyncHTTPPolicy):
    """Waits for the subscription's rate limiter, then counts and times the request."""

    def __init__(self, limiter: RateLimiter, subscription: str) -> None:
        super().__init__()
        self._limiter = limiter
        self._subscription = subscription

    async def send(self, request: PipelineRequest) -> PipelineResponse:
        await self._limiter.acquire(self._subscription)
        method = request.http_request.method
        started = time.perf_counter()
        code = "error"
        try:
            response = await self.next.send(request)
            code = str(response.http_response.status_code)
            return response
        finally:
            metrics.ARM_LATENCY.labels(method).observe(time.perf_counter() - started)
            metrics.ARM_REQUESTS.labels(method, resource_type_of(request.http_request.url), code).inc()


class ArmClient:
    """One credential's connection to ARM (the pipeline is reused for every request)."""

    def __init__(
        self,
        settings: Settings,
        credential: AsyncTokenCredential,
        transport: AsyncHttpTransport,
        limiter: RateLimiter,
        subscription_id: str,
    ) -> None:
        self.settings = settings
        self.subscription_id = subscription_id
        self.credential = credential
        policies = [
            RequestIdPolicy(),
            HeadersPolicy(),
            UserAgentPolicy(sdk_moniker=f"aso/{__version__}"),
            AsyncARMChallengeAuthenticationPolicy(credential, settings.arm_scope),
            _LimitAndMeasure(limiter, subscription_id),
        ]
        self._client: AsyncPipelineClient[Any, Any] = AsyncPipelineClient(
            base_url=settings.arm_endpoint, policies=policies, transport=transport
        )

    async def close(self) -> None:
        await self.credential.close()

    def url(self, arm_id: str, api_version: str, action: str | None = None) -> str:
        path = url_path(arm_id.rstrip("/")) + (f"/{action}" if action else "")
        return f"{self.settings.arm_endpoint.rstrip('/')}{path}?api-version={api_version}"

    async def send(self, method: str, url: str, body: Any = None) -> ArmResponse:
        """One request; ArmError for 4xx/5xx and transport failures. ``url`` must be on the ARM endpoint."""
        if not same_origin(url, self.settings):
            raise ArmError(
                0, "OperationUrlRejected", f"refusing to send a token to {url}: not the ARM endpoint"
            )
        request = HttpRequest(method, url, json=body) if body is not None else HttpRequest(method, url)
        try:
            response = await self._client.send_request(request, stream=False)
            raw = response.content
        except ClientAuthenticationError as exc:
            raise ArmError(0, AUTHENTICATION_FAILED, _token_failure(exc)) from exc
        except AzureError as exc:
            raise ArmError(0, "NetworkError", str(exc).splitlines()[0][:500]) from exc
        headers = dict(response.headers)
        parsed: Any = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        if response.status_code >= 400:
            error = parsed.get("error") if isinstance(parsed, dict) else None
            code = (
                str(error.get("code"))
                if isinstance(error, dict) and error.get("code")
                else f"HTTP{response.status_code}"
            )
            message = (
                str(error.get("message", ""))
                if isinstance(error, dict)
                else raw.decode(errors="replace")[:500]
            )
            raise ArmError(response.status_code, code, message, _retry_after(headers.get("Retry-After")))
        return ArmResponse(response.status_code, headers, parsed)

    async def get(self, arm_id: str, api_version: str) -> dict[str, Any] | None:
        try:
            response = await self.send("GET", self.url(arm_id, api_version))
        except ArmError as exc:
            if exc.status == 404:
                return None
            raise
        return response.body if isinstance(response.body, dict) else {}

    async def post(
        self, arm_id: str, action: str, api_version: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.send(
            "POST", self.url(arm_id, api_version, action), dict(body) if body else None
        )
        return response.body if isinstance(response.body, dict) else {}

    async def put(self, arm_id: str, api_version: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = await self.send("PUT", self.url(arm_id, api_version), dict(body))
        return response.body if isinstance(response.body, dict) else {}

    async def patch(self, arm_id: str, api_version: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = await self.send("PATCH", self.url(arm_id, api_version), dict(body))
        return response.body if isinstance(response.body, dict) else {}

    async def delete(self, arm_id: str, api_version: str) -> None:
        try:
            await self.send("DELETE", self.url(arm_id, api_version))
        except ArmError as exc:
            if exc.status != 404:
                raise


class ArmClients:
    """One :class:`ArmClient` per credential, all over one aiohttp session and TLS context.

    Given ``connection_verify``, azure-core builds a new SSL context per request, and aiohttp's
    pool keys connections on it: no connection would ever be reused (a TLS handshake per request,
    and idle sockets piling up). One context on one connector keeps the pool working.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter = RateLimiter(settings.arm_rate, settings.arm_burst)
        self._clients: dict[str, ArmClient] = {}
        self._transport: Any = None

    def get(
        self, key: str, credential: Callable[[], AsyncTokenCredential], subscription_id: str
    ) -> ArmClient:
        """The client for the credential ``key``; ``credential`` builds it the first time."""
        client = self._clients.get(key)
        if client is None:
            if self._transport is None:
                self._transport = _transport(self.settings)
            client = ArmClient(
                self.settings, credential(), _SharedTransport(self._transport), self.limiter, subscription_id
            )
            self._clients[key] = client
        return client

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        if self._transport is not None:
            await self._transport.close()


def _transport(settings: Settings) -> Any:
    import ssl

    import aiohttp
    from azure.core.pipeline.transport import AioHttpTransport

    context = ssl.create_default_context(cafile=settings.ca_bundle)
    connector = aiohttp.TCPConnector(ssl=context, limit=100)
    session = aiohttp.ClientSession(connector=connector, trust_env=False)
    return AioHttpTransport(session=session, session_owner=True)


class _SharedTransport(AsyncHttpTransport):
    """Lets several pipelines share one aiohttp transport without any of them closing it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def __aenter__(self) -> _SharedTransport:
        await self._inner.open()
        return self

    async def __aexit__(self, *args: Any) -> None:
        return None

    async def open(self) -> None:
        await self._inner.open()

    async def close(self) -> None:
        return None

    async def send(self, request: Any, **kwargs: Any) -> Any:
        return await self._inner.send(request, **kwargs)

    async def sleep(self, duration: float) -> None:
        await asyncio.sleep(duration)
