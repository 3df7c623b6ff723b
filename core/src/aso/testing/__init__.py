"""The test kit of aso, for third-party plugin authors and for aso itself: one public module.

Install it with ``pip install 'aso-core[testing]'``; it is a pytest plugin (entry point
``pytest11: aso``), so its fixtures are available in every test without an import. Nothing
outside this package imports pytest or the ``kubernetes`` client: the operator image needs
neither.

Fixtures (all function-scoped, real servers on loopback sockets, nothing mocked):

``arm_emulator``
    An :class:`ArmEmulatorHandle`: the ARM emulator's endpoint, CA bundle and principal, with
    ``client(SomeManagementClient)`` for a real Azure SDK client and ``env()`` for the settings
    an operator needs. Your plugin's ``aso_arm_profiles`` are loaded. ``arm_control`` is its
    control API (:class:`ArmControlClient`: faults, drift, request counts), ``arm_http``
    plain HTTPS calls with a real token (:class:`ArmHttp`: status codes and headers as sent).
``kube_api``
    A :class:`KubeApi`: a local Kubernetes API server (``.custom``, ``.core`` clients,
    ``.kubeconfig``) holding the CRDs of ``kube_crds``.
``kube_crds``
    Every installed plugin's CRDs (:func:`installed_crds`), their conversion webhook pointed at
    the test's operator (``conversion_webhook``), so every served version works. Override it to
    add a kind that is not installed:
    ``return [*installed_crds(conversion_webhook), kind_crd(MY_KIND, conversion_webhook)]``.
``aso_operator``
    An :class:`OperatorProcess` (``aso run`` as a subprocess) wired to both, **not yet
    started**: set ``aso_operator.env[...]`` and call ``aso_operator.start()``; it can be
    ``kill()``-ed and started again.
``running_operator``
    The same, already started with the default settings: most tests want this one.
``operator_plugins``
    Override to make plugins that are not installed visible to the operator
    (:func:`plugin_path`).

Helpers: :func:`create`, :func:`get`, :func:`wait_ready` (the one waiter: Ready, or
``status="False", reason=...``), :func:`ready_condition`, :func:`wait_for` /
:func:`async_wait_for` (poll any predicate, never a fixed sleep), :func:`ensure_namespace`.

A whole end-to-end test of a plugin::

    from aso.testing import create, wait_ready

    VAULTS = ("keyvault.azure.com", "v1api20230701", "vaults")

    def test_vault_becomes_ready(running_operator, kube_api):
        create(kube_api, {"apiVersion": "resources.azure.com/v1api20200601", "kind": "ResourceGroup",
                          "metadata": {"name": "rg", "namespace": "default"},
                          "spec": {"location": "westus2"}})
        create(kube_api, {"apiVersion": "keyvault.azure.com/v1api20230701", "kind": "Vault", ...})
        vault = wait_ready(kube_api, VAULTS, "kv")
        assert vault["status"]["id"].endswith("/vaults/kv")
"""

from aso.testing.arm import ArmControlClient, ArmEmulatorHandle, ArmHttp, RequestCounts
from aso.testing.kube import (
    ConversionWebhook,
    KubeApi,
    Which,
    async_wait_for,
    create,
    create_secret,
    ensure_namespace,
    get,
    installed_crds,
    is_ready,
    kind_crd,
    ready_condition,
    start_kube_api,
    stop_kube_api,
    wait_for,
    wait_ready,
)
from aso.testing.operator import OperatorProcess, PluginPath, plugin_path

__all__ = [
    "ArmControlClient",
    "ArmEmulatorHandle",
    "ArmHttp",
    "ConversionWebhook",
    "KubeApi",
    "OperatorProcess",
    "PluginPath",
    "RequestCounts",
    "Which",
    "async_wait_for",
    "create",
    "create_secret",
    "ensure_namespace",
    "get",
    "installed_crds",
    "is_ready",
    "kind_crd",
    "plugin_path",
    "ready_condition",
    "start_kube_api",
    "stop_kube_api",
    "wait_for",
    "wait_ready",
]
