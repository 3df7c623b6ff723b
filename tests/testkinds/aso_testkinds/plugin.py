"""The test-only plugin: declares Widget in two versions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aso import ApiVersion, Export, ResourceKind, Scope, hookimpl


def _rename(body: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, Mapping) else v for k, v in body.items()}
    for part in ("spec", "status"):
        section = out.get(part)
        if isinstance(section, dict) and old in section:
            section[new] = section.pop(old)
    return out


def tier_to_size(body: Mapping[str, Any]) -> dict[str, Any]:
    return _rename(body, "tier", "size")


def size_to_tier(body: Mapping[str, Any]) -> dict[str, Any]:
    return _rename(body, "size", "tier")


WIDGET = ResourceKind(
    group="test.aso.dev",
    kind="Widget",
    plural="widgets",
    short_names=("wdg",),
    arm_type="Microsoft.AsoTest/widgets",
    owner=Scope.RESOURCE_GROUP,
    versions=(
        ApiVersion(name="v1api20240101", arm_api_version="2024-01-01"),
        ApiVersion(
            name="v1api20250101", arm_api_version="2025-01-01", to_hub=tier_to_size, from_hub=size_to_tier
        ),
    ),
    storage_version="v1api20240101",
    schema_package="aso_testkinds",
    exports=(
        Export(name="primaryKey", secret=True, action="listKeys", path="keys[0].value"),
        Export(name="endpoint", secret=False, path="properties.endpoint"),
    ),
)


@hookimpl
def aso_register_kinds() -> Sequence[ResourceKind]:
    return [WIDGET]
