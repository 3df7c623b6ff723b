"""The test-only plugin: declares Widget in two versions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aso import (
    ArmErrorInfo,
    Classification,
    Export,
    Extensions,
    KindVersion,
    ReconcileContext,
    ResourceKind,
    Scope,
    hookimpl,
)


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


async def tag_managed_by(
    ctx: ReconcileContext, next: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """Extension: every Widget PUT carries a ``managed-by`` tag (the default body plus one field)."""
    body = await next()
    body["tags"] = {**body.get("tags", {}), "managed-by": "aso"}
    return body


def quota_is_transient(error: ArmErrorInfo, next: Callable[[], Classification]) -> Classification:
    """Extension: the widget provider's quota error heals by itself; everything else as default."""
    if error.code == "WidgetQuotaReached":
        return Classification(retry=True, severity="Warning", reason=error.code, delay=1.0)
    return next()


WIDGET = ResourceKind(
    group="test.aso.dev",
    kind="Widget",
    plural="widgets",
    short_names=("wdg",),
    arm_type="Microsoft.AsoTest/widgets",
    owner=Scope.RESOURCE_GROUP,
    versions=(
        KindVersion(name="v1api20240101", arm_api_version="2024-01-01"),
        KindVersion(
            name="v1api20250101", arm_api_version="2025-01-01", to_hub=tier_to_size, from_hub=size_to_tier
        ),
    ),
    storage_version="v1api20240101",
    schema_package="aso_testkinds",
    exports=(
        Export(name="primaryKey", secret=True, action="listKeys", path="keys[0].value"),
        Export(name="endpoint", secret=False, path="properties.endpoint"),
    ),
    extensions=Extensions(arm_body=tag_managed_by, classify_error=quota_is_transient),
)


@hookimpl
def aso_register_kinds() -> Sequence[ResourceKind]:
    return [WIDGET]
