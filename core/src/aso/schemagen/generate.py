"""Writing (or checking) the schema JSON files of one plugin from its configuration."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
from pathlib import Path
from typing import Any

from aso.schemagen.config import PluginConfig, VersionConfig, load_config
from aso.schemagen.convert import SchemaGenError, build_schemas


def import_model(dotted: str) -> type:
    module_name, _, class_name = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SchemaGenError(f"cannot import {module_name}: {error}") from error
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise SchemaGenError(f"{dotted} is not a class")
    return cls


def check_sdk_pin(sdk: str) -> None:
    """The installed release must be the pinned one, or ``source`` would lie."""
    distribution, _, wanted = sdk.partition("==")
    try:
        installed = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError as error:
        raise SchemaGenError(f"{distribution} is not installed (need {sdk})") from error
    if installed != wanted:
        raise SchemaGenError(f"{distribution} {installed} is installed, the configuration pins {sdk}")


def version_document(version: VersionConfig) -> dict[str, Any]:
    check_sdk_pin(version.sdk)
    status_model = import_model(version.status_model) if version.status_model else None
    spec, status = build_schemas(import_model(version.model), version.facts, status_model=status_model)
    source = f"{version.sdk} {version.model}"
    if version.status_model:
        source += f" (status: {version.status_model})"
    return {
        "kind": version.kind,
        "version": version.version,
        "armApiVersion": version.arm_api_version,
        "armType": version.arm_type,
        "source": source,
        "spec": spec,
        "status": status,
    }


def render_document(document: dict[str, Any]) -> str:
    """Deterministic text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate_plugin(plugin_dir: Path, *, check: bool = False, sdk: str | None = None) -> list[Path]:
    """Write every schema of the plugin (only those pinned to ``sdk`` when given); with ``check``,
    write nothing and return the files that would change."""
    config: PluginConfig = load_config(plugin_dir)
    changed: list[Path] = []
    for version in config.versions:
        if sdk is not None and version.sdk != sdk:
            continue
        target = config.schemas_dir / version.output_name
        text = render_document(version_document(version))
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        changed.append(target)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return changed
