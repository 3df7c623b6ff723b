"""The pieces of ``aso new-plugin`` that need no SDK: names, facts, the sample spec."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from aso.cli import cli
from aso.newplugin import PluginFacts, default_model, plural_of, sample_spec, version_name


@pytest.mark.parametrize(
    ("kind", "plural"),
    [("UserAssignedIdentity", "userassignedidentities"), ("Vault", "vaults"), ("Redis", "redises")],
)
def test_plural_as_aso_spells_it(kind: str, plural: str) -> None:
    assert plural_of(kind) == plural


def test_names_from_the_api_version_and_the_sdk() -> None:
    assert version_name("2023-07-01") == "v1api20230701"
    assert version_name("2021-09-30-preview") == "v1api20210930preview"
    assert default_model("azure-mgmt-keyvault==10.3.0", "2023-07-01", "Vault") == (
        "azure.mgmt.keyvault.v2023_07_01.models.Vault"
    )


def test_sample_spec_fills_what_the_schema_requires() -> None:
    facts = PluginFacts(
        service="x", group="x.azure.com", kind="X", arm_type="A.B/xs", arm_api_version="2023-01-01",
        sdk="a==1", model="m.X",
    )  # fmt: skip
    schema = {
        "type": "object",
        "required": ["location", "sku", "count"],
        "properties": {
            "location": {"type": "string"},
            "count": {"type": "integer"},
            "tags": {"type": "object"},
            "sku": {"type": "object", "required": ["name"], "properties": {"name": {"enum": ["S1", "S2"]}}},
        },
    }
    assert sample_spec(facts, schema) == {"location": "westus2", "sku": {"name": "S1"}, "count": 1}


def test_bad_facts_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["new-plugin", "Key-Vault", "--group=g.azure.com", "--kind=Vault", "--arm-type=A.B/vaults",
         "--api-version=July", "--sdk=azure-mgmt-keyvault", f"--out={tmp_path / 'p'}"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "NAME 'Key-Vault'" in result.output
    assert "--sdk 'azure-mgmt-keyvault': pin the release" in result.output
    assert "--api-version 'July'" in result.output
    assert not (tmp_path / "p").exists()
