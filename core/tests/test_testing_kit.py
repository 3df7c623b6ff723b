"""The public test kit (aso.testing): default CRDs, the one waiter, a running operator, clean imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

import aso.testing
from aso.testing import KubeApi, create, get, kind_crd, ready_condition, wait_ready

RG = ("resources.azure.com", "v1api20200601", "resourcegroups")


def resource_group(name: str) -> dict[str, object]:
    return {
        "apiVersion": "resources.azure.com/v1api20200601",
        "kind": "ResourceGroup",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"location": "westus2"},
    }


def test_default_kube_crds_hold_every_installed_plugins_kinds(kube_api: KubeApi) -> None:
    names = {crd["metadata"]["name"] for crd in aso.testing.installed_crds()}
    assert "resourcegroups.resources.azure.com" in names
    assert get(kube_api, RG, "nothing-yet") is None


def test_a_kind_of_your_own_is_one_call(kube_api: KubeApi) -> None:
    from aso_resources.plugin import RESOURCE_GROUP

    crd = kind_crd(RESOURCE_GROUP)
    assert kube_api.install_crds(crd) == ["resourcegroups.resources.azure.com"]


@pytest.mark.timeout(120)
def test_running_operator_makes_an_object_ready(
    running_operator: aso.testing.OperatorProcess, kube_api: KubeApi
) -> None:
    assert running_operator.running
    assert running_operator.start() is running_operator  # a no-op while it runs
    create(kube_api, resource_group("rg-kit"))
    obj = wait_ready(kube_api, RG, "rg-kit", timeout=60)
    assert obj["status"]["id"].endswith("/resourceGroups/rg-kit")
    assert ready_condition(obj)["status"] == "True"
    assert running_operator.starts == 1


def test_the_waiter_says_what_it_last_saw(kube_api: KubeApi) -> None:
    # At the storage version: no operator runs here to convert a write at a served version.
    stored = (RG[0], f"{RG[1]}storage", RG[2])
    create(kube_api, {**resource_group("rg-idle"), "apiVersion": f"{stored[0]}/{stored[1]}"})
    with pytest.raises(AssertionError, match=r"wanted Ready=True; last Ready condition: \{\}"):
        wait_ready(kube_api, stored, "rg-idle", timeout=0.3)


def test_aso_core_does_not_import_pytest_or_the_kubernetes_client() -> None:
    """(kopf imports the kubernetes client when installed; `aso run` keeps it from doing so.)"""
    code = (
        "import sys; sys.modules['kubernetes'] = None; "
        "import aso, aso.cli, aso.host, aso.crd, aso.operator.app, aso.sandbox.arm.server, "
        "aso.sandbox.kube.server, aso.sandbox.runner; "
        "print(sorted(m for m in ('pytest',) if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
