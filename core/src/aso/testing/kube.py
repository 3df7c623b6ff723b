"""Fixtures for the local Kubernetes API server.

``kube_api`` gives each test a fresh server on a free loopback port, running in its own thread so
both the blocking ``kubernetes`` client and an in-process kopf operator on the test's event loop
can talk to it. ``kube_crds`` holds every installed plugin's CRDs; override it to add others::

    @pytest.fixture
    def kube_crds():
        return [*installed_crds(), kind_crd(MY_TEST_KIND), Path("more-crds")]  # dicts, files, dirs

Helpers: :func:`wait_for` / :func:`async_wait_for` poll a predicate; :func:`wait_ready` waits for
the ``Ready`` condition ASO's resources carry; :func:`create`, :func:`get`. The public face of the
kit is :mod:`aso.testing`.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import kubernetes
import pytest

from aso.kinds import ResourceKind
from aso.operator.conditions import find_ready
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
def kube_crds(conversion_webhook: ConversionWebhook) -> list[CrdSource]:
    """CRDs installed into ``kube_api`` before the test starts: every installed plugin's, their
    conversion webhook pointed at the test's operator.

    Override to add a kind that is not installed::

        @pytest.fixture
        def kube_crds(conversion_webhook):
            return [*installed_crds(conversion_webhook), kind_crd(MY_KIND, conversion_webhook)]
    """
    return list(installed_crds(conversion_webhook))


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


#: (group, version, plural) of a custom resource collection, e.g. ``("resources.azure.com",
#: "v1api20200601", "resourcegroups")``.
Which = tuple[str, str, str]


def _custom(k8s: Any) -> Any:
    client = k8s.client if isinstance(k8s, KubeApi) else k8s
    return kubernetes.client.CustomObjectsApi(client)


def create(k8s: KubeApi, obj: Json, plural: str | None = None) -> Json:
    """Create a custom object in its ``metadata.namespace``; ``plural`` defaults to kind + ``s``."""
    group, version = obj["apiVersion"].split("/")
    plural = plural or obj["kind"].lower() + "s"
    namespace = obj["metadata"].get("namespace", "default")
    created: Json = k8s.custom.create_namespaced_custom_object(group, version, namespace, plural, obj)
    return created


def get(k8s: Any, which: Which, name: str, namespace: str | None = "default") -> Json | None:
    """The custom object, or None when it does not exist (``namespace=None``: cluster-scoped)."""
    custom = _custom(k8s)
    try:
        if namespace is None:
            return cast(Json, custom.get_cluster_custom_object(*which, name))
        return cast(Json, custom.get_namespaced_custom_object(which[0], which[1], namespace, which[2], name))
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def ready_condition(obj: Json | None) -> Json:
    """The ``Ready`` condition of an object's ``status.conditions`` (``{}`` when there is none), as
    the operator finds it."""
    return find_ready((obj or {}).get("status")) or {}


def is_ready(obj: Json | None) -> bool:
    return ready_condition(obj).get("status") == "True"


def wait_ready(
    k8s: Any,
    which: Which,
    name: str,
    *,
    status: str = "True",
    reason: str | None = None,
    namespace: str | None = "default",
    timeout: float = 30.0,
) -> Json:
    """Wait until the object's Ready condition has ``status`` (and ``reason``); return the object.

    The one waiter of the kit: ``wait_ready(k8s, which, "rg")`` for Ready, ``status="False",
    reason="InvalidResourceName"`` for a failure. ``k8s`` is a :class:`KubeApi` (or a
    ``kubernetes`` ApiClient). The failure message carries the last Ready condition seen.
    """
    last: list[Json] = [{}]

    def check() -> Json | None:
        obj = get(k8s, which, name, namespace)
        last[0] = ready_condition(obj)
        if last[0].get("status") == status and (reason is None or last[0].get("reason") == reason):
            return obj
        return None

    try:
        return wait_for(check, timeout=timeout, interval=0.1, what=f"{which[2]}.{which[0]} {name}")
    except AssertionError as exc:
        wanted = f"Ready={status}" + (f" reason={reason}" if reason else "")
        raise AssertionError(f"{exc}: wanted {wanted}; last Ready condition: {last[0]}") from None


def ensure_namespace(k8s: KubeApi, name: str, annotations: dict[str, str] | None = None) -> None:
    if not any(ns.metadata.name == name for ns in k8s.core.list_namespace().items):
        k8s.core.create_namespace({"metadata": {"name": name, "annotations": annotations or {}}})


def create_secret(k8s: KubeApi, name: str, namespace: str, data: Mapping[str, str]) -> None:
    """Create the Secret ``namespace/name`` holding ``data`` (plain strings; encoded here)."""
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    k8s.core.create_namespaced_secret(
        namespace, {"metadata": {"name": name, "namespace": namespace}, "data": encoded}
    )


@dataclass(frozen=True)
class ConversionWebhook:
    """Where the operator serves ``/convert`` in a test (TLS with a throwaway CA)."""

    port: int
    cert: Path
    key: Path
    ca_pem: bytes

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/convert"

    def env(self) -> dict[str, str]:
        """The operator's settings that serve it."""
        return {
            "ASO_WEBHOOK_ADDRESS": f"127.0.0.1:{self.port}",
            "ASO_WEBHOOK_CERT": str(self.cert),
            "ASO_WEBHOOK_KEY": str(self.key),
        }


def kind_crd(kind: ResourceKind, webhook: ConversionWebhook | None = None) -> Json:
    """The CRD of one of your kinds (e.g. a test-only kind) for ``kube_crds`` or ``install_crds``;
    with ``webhook``, a kind of several versions converts through the test's operator."""
    from aso.crd import build_crd
    from aso.sandbox.runner import point_webhook

    crd = build_crd(kind)
    return point_webhook(crd, webhook.url, webhook.ca_pem) if webhook is not None else crd


def installed_crds(webhook: ConversionWebhook | None = None) -> list[Json]:
    """The CRDs of every installed plugin's kinds, as ``aso crds`` writes them (see :func:`kind_crd`)."""
    from aso.host import load_registry

    return [kind_crd(kind, webhook) for kind in load_registry().all_kinds()]


@pytest.fixture
def conversion_webhook(tmp_path: Path) -> ConversionWebhook:
    """A port and TLS files for the operator's conversion webhook; ``kube_crds`` and
    ``aso_operator`` use it, so objects written in any served version convert."""
    import socket

    import trustme

    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    folder = tmp_path / "conversion-webhook"
    folder.mkdir(exist_ok=True)
    cert, key = folder / "tls.crt", folder / "tls.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return ConversionWebhook(port=port, cert=cert, key=key, ca_pem=ca.cert_pem.bytes())
