"""The committed schema data of aso-resources, checked as data (no old SDK needed here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aso.schemagen import render_document
from aso.schemagen.config import load_config

REPO = Path(__file__).resolve().parents[3]
RESOURCES = REPO / "plugins" / "resources"
SCHEMAS = RESOURCES / "src" / "aso_resources" / "schemas"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return document


def test_every_configured_version_is_committed_and_formatted() -> None:
    config = load_config(RESOURCES)
    assert config.package == "aso_resources"
    assert config.schemas_dir == SCHEMAS
    expected = {v.output_name for v in config.versions}
    assert expected == {"resourcegroup.v1api20200601.json", "resourcegroup.v1api20210401.json"}
    assert {p.name for p in SCHEMAS.glob("*.json")} == expected
    for version in config.versions:
        text = (SCHEMAS / version.output_name).read_text(encoding="utf-8")
        document = json.loads(text)
        assert render_document(document) == text  # deterministic format
        assert document["kind"] == version.kind == "ResourceGroup"
        assert document["version"] == version.version
        assert document["armApiVersion"] == version.arm_api_version
        assert document["armType"] == "Microsoft.Resources/resourceGroups"
        assert document["source"] == f"azure-mgmt-resource==23.1.1 {version.model}"


@pytest.mark.parametrize("name", ["resourcegroup.v1api20200601.json", "resourcegroup.v1api20210401.json"])
def test_resourcegroup_shape_matches_aso(name: str) -> None:
    document = load(name)
    spec, status = document["spec"], document["status"]
    # ASO's ResourceGroup spec: azureName (core), location, managedBy, tags.
    assert set(spec["properties"]) == {"location", "managedBy", "tags"}
    assert spec["required"] == ["location"]
    assert spec["properties"]["tags"]["additionalProperties"] == {"type": "string"}
    # ASO's status: conditions (core), id, location, managedBy, name, properties, tags, type.
    assert set(status["properties"]) == {"id", "location", "managedBy", "name", "properties", "tags", "type"}
    assert status["properties"]["properties"]["properties"]["provisioningState"]["type"] == "string"
    assert "required" not in status
