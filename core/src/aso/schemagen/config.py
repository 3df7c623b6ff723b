"""The per-plugin generator configuration, ``<plugin dir>/schemagen.yaml``.

See README.md in this package for the format. Loading validates eagerly so a typo
fails with the file and key named, before any SDK is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aso.schemagen.convert import PropertyFacts, SchemaGenError

CONFIG_FILE = "schemagen.yaml"

_FACT_KEYS = {"armReference", "isSecret", "importConfigMapMode", "rename", "required", "addEnum"}
# ASO's spellings in v2/azure-arm.yaml, accepted so facts can be copied from there unchanged.
_ASO_SPELLINGS = {
    "$armReference": "armReference",
    "$isSecret": "isSecret",
    "$importConfigMapMode": "importConfigMapMode",
    "$renameTo": "rename",
    "$required": "required",
}
_VERSION_KEYS = {"armApiVersion", "sdk", "model", "statusModel", "properties", "export"}
_KIND_KEYS = {"armType", "versions"}


@dataclass(frozen=True, kw_only=True)
class VersionConfig:
    kind: str
    version: str
    arm_type: str
    arm_api_version: str
    sdk: str
    """Pinned distribution the model comes from, ``name==version``."""
    model: str
    """Dotted path of the SDK model class (the request body: ``spec``)."""
    status_model: str | None = None
    """Dotted path of the response model for ``status`` when it differs from ``model``."""
    facts: dict[str, PropertyFacts] = field(default_factory=dict)

    @property
    def output_name(self) -> str:
        return f"{self.kind.lower()}.{self.version}.json"


@dataclass(frozen=True, kw_only=True)
class PluginConfig:
    plugin_dir: Path
    package: str
    versions: list[VersionConfig]
    requires: tuple[str, ...] = ()
    """Further requirements installed next to every pin: an older SDK release may import a
    package it does not declare (azure-mgmt-redis 13.0.0 imports ``six``)."""

    @property
    def sdks(self) -> list[str]:
        """The distinct SDK pins, in the order the versions name them."""
        return list(dict.fromkeys(v.sdk for v in self.versions))

    @property
    def schemas_dir(self) -> Path:
        """``src/<package>/schemas`` (src layout), else ``<package>/schemas``."""
        if (self.plugin_dir / "src").is_dir():
            return self.plugin_dir / "src" / self.package / "schemas"
        return self.plugin_dir / self.package / "schemas"


def _fail(where: str, message: str) -> SchemaGenError:
    return SchemaGenError(f"{where}: {message}")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "expected a mapping")
    return value


def _section(value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
    """A mapping whose keys are all ``allowed`` (the error lists those that are not, and those that are)."""
    section = _mapping(value, where)
    unknown = set(section) - allowed
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")
    return section


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(where, "expected a non-empty string")
    return value


def _facts(raw: Any, where: str) -> dict[str, PropertyFacts]:
    result: dict[str, PropertyFacts] = {}
    for path, entry in _mapping(raw or {}, where).items():
        here = f"{where}.{path}"
        spelled = {_ASO_SPELLINGS.get(key, key): value for key, value in _mapping(entry, here).items()}
        entry = _section(spelled, here, _FACT_KEYS)
        mode = entry.get("importConfigMapMode")
        if mode not in (None, "optional", "required"):
            raise _fail(here, "importConfigMapMode must be optional or required")
        rename = entry.get("rename")
        required = entry.get("required")
        if required is not None and not isinstance(required, bool):
            raise _fail(f"{here}.required", "expected true or false")
        add_enum = entry.get("addEnum", [])
        if not isinstance(add_enum, list) or not all(isinstance(v, str) and v for v in add_enum):
            raise _fail(f"{here}.addEnum", "expected a list of strings")
        for flag in ("armReference", "isSecret"):
            if not isinstance(entry.get(flag, False), bool):
                raise _fail(f"{here}.{flag}", "expected true or false")
        result[str(path)] = PropertyFacts(
            arm_reference=entry.get("armReference", False),
            is_secret=entry.get("isSecret", False),
            import_config_map_mode=mode,
            rename=_string(rename, f"{here}.rename") if rename is not None else None,
            required=required,
            add_enum=tuple(add_enum),
        )
    return result


def load_config(plugin_dir: Path) -> PluginConfig:
    path = plugin_dir / CONFIG_FILE
    where = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise _fail(where, f"cannot read: {error}") from error
    raw = _mapping(raw, where)
    package = _string(raw.get("package"), f"{where}: package")
    default_sdk = raw.get("sdk")
    requires_raw = raw.get("requires", [])
    if not isinstance(requires_raw, list) or not all(isinstance(r, str) and r for r in requires_raw):
        raise _fail(f"{where}: requires", "expected a list of requirement strings, e.g. [six]")
    versions: list[VersionConfig] = []
    for kind, kind_raw in _mapping(raw.get("kinds"), f"{where}: kinds").items():
        kind_where = f"{where}: kinds.{kind}"
        kind_raw = _section(kind_raw, kind_where, _KIND_KEYS)
        arm_type = _string(kind_raw.get("armType"), f"{kind_where}.armType")
        for version, version_raw in _mapping(kind_raw.get("versions"), f"{kind_where}.versions").items():
            version_where = f"{kind_where}.versions.{version}"
            version_raw = _section(version_raw, version_where, _VERSION_KEYS)
            if version_raw.get("export", True) is False:
                continue  # ASO's $export: false - described but not served
            sdk = _string(version_raw.get("sdk", default_sdk), f"{version_where}.sdk")
            if "==" not in sdk:
                raise _fail(f"{version_where}.sdk", "pin the SDK release as name==version")
            versions.append(
                VersionConfig(
                    kind=str(kind),
                    version=str(version),
                    arm_type=arm_type,
                    arm_api_version=_string(
                        version_raw.get("armApiVersion"), f"{version_where}.armApiVersion"
                    ),
                    sdk=sdk,
                    model=_string(version_raw.get("model"), f"{version_where}.model"),
                    status_model=(
                        _string(version_raw["statusModel"], f"{version_where}.statusModel")
                        if "statusModel" in version_raw
                        else None
                    ),
                    facts=_facts(version_raw.get("properties"), f"{version_where}.properties"),
                )
            )
    return PluginConfig(
        plugin_dir=plugin_dir, package=package, versions=versions, requires=tuple(requires_raw)
    )
