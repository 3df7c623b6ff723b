"""The issue's Key Vault case with the real SDK release: a separate status model keeps
``spec.location`` required and status ``id``/``name``/``type``; ASO's ``createMode:
createOrRecover`` is accepted through an enum addition from the generator config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aso import KindVersion, ResourceKind, Scope

CONFIG = """
package: aso_kvtest
sdk: azure-mgmt-keyvault==10.3.0
kinds:
  Vault:
    armType: Microsoft.KeyVault/vaults
    versions:
      v1api20230701:
        armApiVersion: "2023-07-01"
        model: azure.mgmt.keyvault.v2023_07_01.models.VaultCreateOrUpdateParameters
        statusModel: azure.mgmt.keyvault.v2023_07_01.models.Vault
        properties:
          properties.createMode: {addEnum: [createOrRecover]}
          properties.tenantId: {$importConfigMapMode: optional}
"""

SAMPLE = {
    "apiVersion": "keyvault.azure.com/v1api20230701",
    "kind": "Vault",
    "metadata": {"name": "samplevault", "namespace": "default"},
    "spec": {
        "location": "westus3",
        "owner": {"name": "aso-sample-rg"},
        "properties": {
            "createMode": "createOrRecover",
            "tenantIdFromConfig": {"name": "vault-settings", "key": "tenantId"},
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [],
        },
    },
}


@pytest.mark.timeout(600)
def test_vault_spec_and_status_as_aso_has_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aso.schemas import object_schema, validation_errors

    (tmp_path / "src" / "aso_kvtest").mkdir(parents=True)
    (tmp_path / "src" / "aso_kvtest" / "__init__.py").write_text("")
    (tmp_path / "schemagen.yaml").write_text(CONFIG)
    done = subprocess.run(
        [sys.executable, "-m", "aso", "schemas", str(tmp_path)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    vault = ResourceKind(
        group="keyvault.azure.com",
        kind="Vault",
        plural="vaults",
        arm_type="Microsoft.KeyVault/vaults",
        owner=Scope.RESOURCE_GROUP,
        versions=(KindVersion(name="v1api20230701", arm_api_version="2023-07-01"),),
        storage_version="v1api20230701",
        schema_package="aso_kvtest",
    )
    schema = object_schema(vault, "v1api20230701")
    spec, status = schema["properties"]["spec"], schema["properties"]["status"]
    assert {"location", "owner", "properties"} <= set(spec["required"])
    assert "createOrRecover" in spec["properties"]["properties"]["properties"]["createMode"]["enum"]
    assert {"id", "name", "type", "location"} <= set(status["properties"])
    assert "operatorSpec" in spec["properties"]
    assert validation_errors(vault, SAMPLE) == []
    wrong = {
        **SAMPLE,
        "spec": {**SAMPLE["spec"], "properties": {**SAMPLE["spec"]["properties"], "createMode": "x"}},
    }
    assert any("createMode" in error for error in validation_errors(vault, wrong))
