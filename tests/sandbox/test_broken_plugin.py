"""A broken third-party plugin never breaks the others: the sandbox starts and serves the rest."""

from __future__ import annotations

from pathlib import Path

import kubernetes
import pytest

from aso.testing import plugin_path, wait_ready
from aso.testing.sandbox import SandboxProcess

BROKEN = """
from aso import KindVersion, ResourceKind, Scope, hookimpl

@hookimpl
def aso_register_kinds():
    listed = ResourceKind(
        group="acme.example.com", kind="Gizmo", plural="gizmos", arm_type="Acme.Things/gizmos",
        owner=Scope.RESOURCE_GROUP, storage_version="v1api20240101", schema_package="acme_broken",
        versions=[KindVersion(name="v1api20240101", arm_api_version="2024-01-01")],
    )
    unshipped = ResourceKind(
        group="acme.example.com", kind="Widget", plural="widgets", arm_type="Acme.Things/widgets",
        owner=Scope.RESOURCE_GROUP, storage_version="v1api20240101", schema_package="acme_broken",
        versions=(KindVersion(name="v1api20240101", arm_api_version="2024-01-01"),),
    )
    return [listed, unshipped]
"""


@pytest.mark.timeout(180)
def test_sandbox_serves_the_good_plugins_and_names_the_bad_kinds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "src"
    (source / "acme_broken").mkdir(parents=True)
    (source / "acme_broken" / "__init__.py").write_text(BROKEN)
    site = plugin_path(tmp_path / "site", {"acme": "acme_broken"}, [source])
    monkeypatch.setenv("PYTHONPATH", site.pythonpath)
    sandbox = SandboxProcess(tmp_path / "sandbox").start()
    try:
        crds = sorted(p.name for p in (tmp_path / "sandbox" / "crds").glob("*.yaml"))
        assert "resourcegroups.resources.azure.com.yaml" in crds
        assert not any("acme" in name for name in crds)
        console = sandbox.console()
        assert "kind acme.example.com/Gizmo skipped: versions: expected a tuple" in console
        log = sandbox.operator_log()
        assert "kind acme.example.com/Gizmo skipped: versions: expected a tuple" in log
        assert "kind acme.example.com/Widget skipped: schemas/widget.v1api20240101.json is missing" in log
        client = sandbox.api_client()
        kubernetes.client.CustomObjectsApi(client).create_namespaced_custom_object(
            "resources.azure.com",
            "v1api20200601",
            "default",
            "resourcegroups",
            {
                "apiVersion": "resources.azure.com/v1api20200601",
                "kind": "ResourceGroup",
                "metadata": {"name": "rg-ok", "namespace": "default"},
                "spec": {"location": "westus2"},
            },
        )
        wait_ready(client, ("resources.azure.com", "v1api20200601", "resourcegroups"), "rg-ok", timeout=60)
    finally:
        assert sandbox.stop() == 0
