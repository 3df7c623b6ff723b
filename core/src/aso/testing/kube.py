"""Fixtures for the local Kubernetes API server.

``kube_api`` gives each test a fresh server on a free loopback port, running in its own thread so
both the blocking ``kubernetes`` client and an in-process kopf operator on the test's event loop
can talk to it. Override the ``kube_crds`` fixture to install the CRDs of the plugins under test::

    @pytest.fixture
    def kube_crds():
        return [Path("crds")]            # files, directories of *.yaml, or CRD dicts

Helpers: :func:`wait_for` / :func:`async_wait_for` poll a predicate; :func:`wait_until_ready`
waits for the ``Ready`` condition ASO's resources carry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import kubernetes
import pytest

from aso.sandbox.kube import KubeApiServerThread
from aso.sandbox.kube.server import CrdSource

T = TypeVar("T")
Json = dict[str, Any]


@dataclass
class KubeApi:
    """A running server and ready-made clients for it."""

    server: KubeApiServerThread
    url: str
    kubeconfig: Path
    client: Any  # kubernetes.client.ApiClient

    @property
    def core(self) -> Any:
        """``kubernetes.client.CoreV1Api`` on this server."""
        return kubernetes.client.CoreV1Api(self.client)

    @property
    def custom(self) -> Any:
        """``kubernetes.client.CustomObjectsApi`` on this server."""
        return kubernetes.client.CustomObjectsApi(self.client)

    def install_crds(self, *sources: CrdSource) -> list[str]:
        """Create or update CRDs from YAML files, directories of YAML files, or dicts; returns names."""
        return self.server.install_crds(sources)


def api_client_for(url: str) -> Any:
    """A ``kubernetes.client.ApiClient`` talking plain HTTP to ``url``."""
    configuration = kubernetes.client.Configuration()
    configuration.host = url
    configuration.api_key = {"authorization": "aso-sandbox"}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    return kubernetes.client.ApiClient(configuration)


def start_kube_api(directory: Path, crds: Sequence[CrdSource] = (), state_dir: Path | None = None) -> KubeApi:
    """Start a server (outside pytest too) and write ``directory/kubeconfig``; stop with ``stop_kube_api``."""
    server = KubeApiServerThread(crds=list(crds), state_dir=state_dir)
    server.start()
    kubeconfig = server.write_kubeconfig(directory / "kubeconfig")
    return KubeApi(server=server, url=server.url, kubeconfig=kubeconfig, client=api_client_for(server.url))


def stop_kube_api(api: KubeApi) -> None:
    api.client.close()
    api.server.stop()


@pytest.fixture
def kube_crds() -> list[CrdSource]:
    """CRDs installed into ``kube_api`` before the test starts; override to add your plugin's."""
    return []


@pytest.fixture
def kube_api(tmp_path: Path, kube_crds: list[CrdSource]) -> Iterator[KubeApi]:
    """A fresh local Kubernetes API server with a kubeconfig file and a ``kubernetes`` ApiClient."""
    api = start_kube_api(tmp_path, kube_crds)
    try:
        yield api
    finally:
        stop_kube_api(api)


@pytest.fixture
def kubeconfig_env(kube_api: KubeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``KUBECONFIG`` at ``kube_api`` (for kopf, kubectl and ``config.load_kube_config()``)."""
    monkeypatch.setenv("KUBECONFIG", str(kube_api.kubeconfig))
    # The kubernetes client reads $KUBECONFIG once, at import; kopf's login_via_client relies on it.
    monkeypatch.setattr(
        kubernetes.config.kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kube_api.kubeconfig)
    )
    return kube_api.kubeconfig


def wait_for(
    predicate: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll ``predicate`` until it returns something truthy; return that, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or repr(predicate)}")
        time.sleep(interval)


async def async_wait_for(
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float = 10.0,  # noqa: ASYNC109 - the same signature as wait_for, on purpose
    interval: float = 0.05,
    what: str = "",
) -> T:
    """:func:`wait_for` without blocking the event loop; ``predicate`` may be a coroutine function."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or repr(predicate)}")
        await asyncio.sleep(interval)


def ready_condition(obj: Json) -> Json | None:
    """The ``Ready`` condition of an object's ``status.conditions``, if any."""
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return dict(condition)
    return None


def is_ready(obj: Json) -> bool:
    condition = ready_condition(obj)
    return condition is not None and condition.get("status") == "True"


def wait_until_ready(
    api: Any, group: str, version: str, plural: str, namespace: str | None, name: str, timeout: float = 30.0
) -> Json:
    """Wait until a custom object's ``Ready`` condition is ``True``; return the object.

    ``api`` is a ``kubernetes.client.ApiClient`` (or a :class:`KubeApi`). The failure message
    carries the last Ready condition seen, which usually says why.
    """
    client = api.client if isinstance(api, KubeApi) else api
    custom = kubernetes.client.CustomObjectsApi(client)
    last: list[Json] = []

    def check() -> Json | None:
        obj: Json
        if namespace is None:
            obj = cast(Json, custom.get_cluster_custom_object(group, version, plural, name))
        else:
            obj = cast(Json, custom.get_namespaced_custom_object(group, version, namespace, plural, name))
        last[:] = [obj]
        return obj if is_ready(obj) else None

    try:
        return wait_for(check, timeout=timeout, what=f"{plural}.{group} {name} to be Ready")
    except AssertionError as exc:
        condition = ready_condition(last[0]) if last else None
        raise AssertionError(f"{exc}; last Ready condition: {condition}") from None
