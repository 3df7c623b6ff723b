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
