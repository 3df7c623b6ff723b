"""The committed schema data: one file per kind and version, from the pinned SDK release, with ASO
v2's generator facts applied (secrets, ConfigMap imports, ARM references)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from sql_testkit import PLURALS

from aso_sql.plugin import KINDS

pytestmark = pytest.mark.timeout(30)

SDK = "azure-mgmt-sql==4.0.0b3"
SCHEMAS = resources.files("aso_sql") / "schemas"


def schema(kind: str, version: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCHEMAS / f"{kind.lower()}.{version}.json").read_text())
    return document


def test_every_kind_and_version_is_committed_from_the_pinned_release() -> None:
    names = {p.name for p in SCHEMAS.iterdir() if p.name.endswith(".json")}
    expected = {f"{k.kind.lower()}.{v.name}.json" for k in KINDS for v in k.versions}
    assert names == expected
    assert {k.kind for k in KINDS} == set(PLURALS)
    for kind in KINDS:
        for version in kind.versions:
            document = schema(kind.kind, version.name)
            assert document["armApiVersion"] == version.arm_api_version == "2021-11-01"
            assert document["armType"] == kind.arm_type
            assert document["source"].startswith(SDK + " azure.mgmt.sql.models.")


@pytest.mark.parametrize("version", ["v1api20211101", "v20211101"])
def test_aso_generator_facts(version: str) -> None:
    server = schema("Server", version)
    spec, status = server["spec"]["properties"], server["status"]["properties"]
    password = spec["administratorLoginPassword"]
    assert set(password["properties"]) == {"name", "key"}
    assert "administratorLoginPassword" not in status
    admins = spec["administrators"]["properties"]
    for name in ("login", "sid", "tenantId"):
        assert name in admins
        assert set(admins[f"{name}FromConfig"]["properties"]) == {"name", "key"}
    assert "primaryUserAssignedIdentityReference" in spec
    assert "primaryUserAssignedIdentityId" in status

    admin = schema("ServersAdministrator", version)["spec"]["properties"]
    assert {"sidFromConfig", "tenantIdFromConfig", "login", "administratorType"} <= set(admin)
    assert "azureADOnlyAuthentication" not in admin  # read-only in ARM

    database = schema("ServersDatabase", version)["spec"]["properties"]
    for reference in ("elasticPool", "sourceDatabase", "restorableDroppedDatabase", "recoverableDatabase"):
        assert f"{reference}Reference" in database
        assert f"{reference}Id" not in database
    assert set(database["sku"]["properties"]) == {"name", "tier", "size", "family", "capacity"}

    firewall = schema("ServersFirewallRule", version)["spec"]["properties"]
    assert set(firewall) == {"startIpAddress", "endIpAddress"}
    aad_only = schema("ServersAzureADOnlyAuthentication", version)["spec"]["properties"]
    assert set(aad_only) == {"azureADOnlyAuthentication"}
