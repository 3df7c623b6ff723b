"""Configuration loading and the ``python -m aso.schemagen`` command, on a throwaway plugin dir."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from types import ModuleType

import pytest

from aso.schemagen import SchemaGenError
from aso.schemagen.__main__ import main
from aso.schemagen.config import load_config

# Any installed distribution will do as the "pinned SDK" of the fake models.
PIN = f"pyyaml=={importlib.metadata.version('pyyaml')}"


def write_plugin(tmp_path: Path, msrest: ModuleType, *, sdk: str = PIN, extra: str = "") -> Path:
    (tmp_path / "src" / "aso_fake").mkdir(parents=True)
    (tmp_path / "schemagen.yaml").write_text(
        f"""
package: aso_fake
sdk: "{sdk}"
kinds:
  Server:
    armType: Microsoft.Fake/servers
    versions:
      v1api20200101:
        armApiVersion: "2020-01-01"
        model: {msrest.__name__}.Server
        properties:
          properties.administratorLoginPassword: {{isSecret: true}}
          properties.subnetId: {{armReference: true}}
          properties.tenantId: {{importConfigMapMode: optional}}
      v1api20190101:
        armApiVersion: "2019-01-01"
        model: {msrest.__name__}.Server
        export: false
{extra}""",
        encoding="utf-8",
    )
    return tmp_path


def test_generate_writes_deterministic_documents(
    tmp_path: Path, msrest: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = write_plugin(tmp_path, msrest)
    assert main([str(plugin)]) == 0
    target = plugin / "src" / "aso_fake" / "schemas" / "server.v1api20200101.json"
    assert f"wrote {target}" in capsys.readouterr().out
    # export: false versions are not generated.
    assert sorted(p.name for p in target.parent.iterdir()) == ["server.v1api20200101.json"]
    text = target.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    document = json.loads(text)
    assert document["source"] == f"{PIN} {msrest.__name__}.Server"
    assert (document["kind"], document["version"], document["armApiVersion"]) == (
        "Server",
        "v1api20200101",
        "2020-01-01",
    )
    assert document["armType"] == "Microsoft.Fake/servers"
    assert "subnetReference" in document["spec"]["properties"]
    # Fresh output passes --check; a stale file fails it and is not rewritten.
    assert main(["--check", str(plugin)]) == 0
    target.write_text("{}\n", encoding="utf-8")
    assert main(["--check", str(plugin)]) == 1
    assert target.read_text(encoding="utf-8") == "{}\n"


def test_wrong_sdk_pin_is_refused(
    tmp_path: Path, msrest: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = write_plugin(tmp_path, msrest, sdk="pyyaml==0.0.1")
    assert main([str(plugin)]) == 2
    assert "configuration pins pyyaml==0.0.1" in capsys.readouterr().err


def test_config_typos_are_named(tmp_path: Path, msrest: ModuleType) -> None:
    plugin = write_plugin(tmp_path, msrest)
    config_path = plugin / "schemagen.yaml"
    config_path.write_text(
        config_path.read_text(encoding="utf-8").replace("{isSecret: true}", "{isSecrett: true}"),
        encoding="utf-8",
    )
    with pytest.raises(SchemaGenError, match=r"administratorLoginPassword: unknown keys \['isSecrett'\]"):
        load_config(plugin)


def test_missing_model_is_reported(
    tmp_path: Path, msrest: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = write_plugin(tmp_path, msrest)
    config_path = plugin / "schemagen.yaml"
    config_path.write_text(
        config_path.read_text(encoding="utf-8").replace(
            ".Server\n        properties", ".Nope\n        properties"
        ),
        encoding="utf-8",
    )
    assert main([str(plugin)]) == 2
    assert "Nope is not a class" in capsys.readouterr().err


def test_plugin_without_config_is_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 0
    assert "no schemagen.yaml" in capsys.readouterr().out


def write_vault_plugin(tmp_path: Path, msrest: ModuleType, facts: str) -> Path:
    (tmp_path / "src" / "aso_fake").mkdir(parents=True)
    (tmp_path / "schemagen.yaml").write_text(
        f"""
package: aso_fake
sdk: "{PIN}"
kinds:
  Vault:
    armType: Microsoft.KeyVault/vaults
    versions:
      v1api20230701:
        armApiVersion: "2023-07-01"
        model: {msrest.__name__}.VaultCreateOrUpdateParameters
        statusModel: {msrest.__name__}.Vault
        properties:
{facts}""",
        encoding="utf-8",
    )
    return tmp_path


def test_aso_generator_facts_from_the_config(tmp_path: Path, msrest: ModuleType) -> None:
    """statusModel, required overrides, enum additions and renames; ASO's `$` spellings accepted."""
    plugin = write_vault_plugin(
        tmp_path,
        msrest,
        """          properties.createMode: {addEnum: [createOrRecover]}
          properties.tenantId: {$required: false, $importConfigMapMode: optional}
          properties.vaultUri: {$renameTo: uri}
""",
    )
    assert main([str(plugin)]) == 0
    document = json.loads((plugin / "src/aso_fake/schemas/vault.v1api20230701.json").read_text())
    spec, status = document["spec"], document["status"]
    assert spec["properties"]["createMode"]["enum"][-1] == "createOrRecover"
    assert spec["required"] == ["location"]
    assert "tenantIdFromConfig" in spec["properties"]
    assert {"id", "name", "type", "uri"} <= set(status["properties"])
    assert document["source"].endswith(f"(status: {msrest.__name__}.Vault)")


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ("          properties.tenantId: {required: yes please}\n", r"tenantId\.required: expected true"),
        ("          properties.createMode: {addEnum: createOrRecover}\n", r"addEnum: expected a list"),
        ("          properties.tenantId: {isSecret: 1}\n", r"tenantId\.isSecret: expected true or false"),
    ],
)
def test_bad_fact_values_are_named(tmp_path: Path, msrest: ModuleType, facts: str, message: str) -> None:
    plugin = write_vault_plugin(tmp_path, msrest, facts)
    with pytest.raises(SchemaGenError, match=message):
        load_config(plugin)


def test_aso_schemas_command_in_the_current_env(tmp_path: Path, msrest: ModuleType) -> None:
    from click.testing import CliRunner

    from aso.cli import cli

    plugin = write_plugin(tmp_path, msrest)
    runner = CliRunner()
    result = runner.invoke(cli, ["schemas", "--current-env", str(plugin)])
    assert result.exit_code == 0, result.output
    assert "server.v1api20200101.json" in result.output
    assert runner.invoke(cli, ["schemas", "--current-env", "--check", str(plugin)]).exit_code == 0


def test_further_requirements_are_read_and_checked(tmp_path: Path, msrest: ModuleType) -> None:
    plugin = write_plugin(tmp_path, msrest)
    config_file = plugin / "schemagen.yaml"
    text = config_file.read_text(encoding="utf-8")
    assert load_config(plugin).requires == ()
    config_file.write_text("requires: [six, 'msrest>=0.6']\n" + text, encoding="utf-8")
    assert load_config(plugin).requires == ("six", "msrest>=0.6")
    config_file.write_text("requires: six\n" + text, encoding="utf-8")
    with pytest.raises(SchemaGenError, match="requires: expected a list of requirement strings"):
        load_config(plugin)
