"""The operator's end-to-end tests: real kopf, real SDK pipeline, local ARM emulator and API server."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from aso.crd import build_crd
from aso.testing.kube import KubeApi
from aso.testing.operator import PluginPath, ensure_namespace, plugin_path

REPO = pathlib.Path(__file__).resolve().parents[2]
TESTKINDS = REPO / "tests" / "testkinds"


@pytest.fixture
def kube_crds() -> list[Any]:
    from aso_testkinds.plugin import WIDGET

    return [REPO / "crds", build_crd(WIDGET)]


@pytest.fixture
def operator_plugins(tmp_path: pathlib.Path) -> PluginPath:
    return plugin_path(tmp_path / "site", {"testkinds": "aso_testkinds.plugin"}, [TESTKINDS])


@pytest.fixture
def k8s(kube_api: KubeApi) -> KubeApi:
    ensure_namespace(kube_api, "default")
    return kube_api
