"""Helm 4 (server-side apply by default) installs, upgrades, conflicts and uninstalls on the server.

Runs with a real ``helm`` 4 binary named by ``ASO_HELM`` (``nox -s chart`` fetches one); skips
without it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from aso.testing.kube import KubeApi

from .conftest import GROUP, PLURAL, raw

HELM = os.environ.get("ASO_HELM", "")

pytestmark = [
    pytest.mark.skipif(not HELM, reason="needs a helm 4 binary (ASO_HELM): `nox -s chart` installs one"),
    pytest.mark.timeout(120),
]

TEMPLATES = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: demo-config
data:
  size: {{ .Values.size | quote }}
  {{- if .Values.extra }}
  extra: "yes"
  {{- end }}
---
apiVersion: test.aso.dev/v1
kind: Widget
metadata:
  name: demo-widget
spec:
  location: westeurope
  size: {{ .Values.size }}
  {{- if .Values.extra }}
  tags:
    extra: "yes"
  {{- end }}
"""


def _chart(tmp_path: Path) -> Path:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("size: small\nextra: true\n")
    (chart / "templates" / "all.yaml").write_text(TEMPLATES)
    return chart


def _helm(
    kube_api: KubeApi, tmp_path: Path, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(kube_api.kubeconfig), "HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [HELM, *args, "-n", "default"], env=env, capture_output=True, text=True, timeout=60
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_helm_4_install_upgrade_conflict_force_rollback_and_uninstall(
    kube_api: KubeApi, tmp_path: Path
) -> None:
    chart = str(_chart(tmp_path))
    widget = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}/demo-widget"
    _helm(kube_api, tmp_path, "install", "demo", chart)
    installed = raw(kube_api, "GET", widget).body
    assert installed["spec"]["tags"] == {"extra": "yes"}
    assert [(e["manager"], e["operation"]) for e in installed["metadata"]["managedFields"]] == [
        ("helm", "Apply")
    ]
    _helm(kube_api, tmp_path, "upgrade", "demo", chart, "--set", "size=large", "--set", "extra=false")
    upgraded = raw(kube_api, "GET", widget).body
    assert upgraded["spec"]["size"] == "large"
    assert "tags" not in upgraded["spec"]  # no longer in the chart: removed
    config = raw(kube_api, "GET", "/api/v1/namespaces/default/configmaps/demo-config").body
    assert config["data"] == {"size": "large"}
    edited = raw(
        kube_api,
        "PATCH",
        f"{widget}?fieldManager=kubectl-edit",
        {"spec": {"size": "medium"}},
        content_type="application/merge-patch+json",
    )
    assert edited.status == 200
    # No values given: helm reuses the release's (size=large, extra=false).
    clash = _helm(kube_api, tmp_path, "upgrade", "demo", chart, check=False)
    assert clash.returncode != 0
    assert (
        f'Apply failed with 1 conflict: conflict with "kubectl-edit" using {GROUP}/v1: .spec.size'
        in clash.stderr
    )
    _helm(kube_api, tmp_path, "upgrade", "demo", chart, "--force-conflicts")
    forced = raw(kube_api, "GET", widget).body
    assert forced["spec"]["size"] == "large"
    assert [e["manager"] for e in forced["metadata"]["managedFields"]] == ["helm"]
    _helm(kube_api, tmp_path, "rollback", "demo", "1")
    rolled_back = raw(kube_api, "GET", widget).body
    assert rolled_back["spec"]["size"] == "small"
    assert rolled_back["spec"]["tags"] == {"extra": "yes"}
    _helm(kube_api, tmp_path, "uninstall", "demo")  # deletes its release Secrets with protobuf DeleteOptions
    assert raw(kube_api, "GET", widget).status == 404
    secrets = raw(kube_api, "GET", "/api/v1/namespaces/default/secrets").body["items"]
    assert [s["metadata"]["name"] for s in secrets] == []
