"""Exports: values of the resource written to the Secrets and ConfigMaps named in
``spec.operatorSpec`` (owned by the object, so they go with it)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from aso.common import get_path
from aso.errors import PermanentError, RetryableError
from aso.kinds import Export
from aso.operator.context import ObjectContext, Target
from aso.operator.extension_runner import run_extension
from aso.operator.kubeapi import KubeClient, resource_path

__all__ = ["export"]


async def export(kube: KubeClient, ctx: ObjectContext, target: Target, resource: Mapping[str, Any]) -> None:
    """Write every export the object asks for; nothing when it asks for none."""
    operator_spec = ctx.spec.get("operatorSpec") or {}
    wanted: list[tuple[Export, Mapping[str, Any]]] = []
    for item in ctx.kind.exports:
        section = operator_spec.get("secrets" if item.secret else "configMaps") or {}
        destination = section.get(item.name)
        if isinstance(destination, Mapping) and destination.get("name"):
            wanted.append((item, destination))
    if not wanted:
        return

    async def values() -> dict[str, str]:
        return await _values(target, resource, [e for e, _ in wanted])

    computed = await run_extension(ctx, target, "export_values", values)
    grouped: dict[tuple[bool, str], dict[str, str]] = {}
    for item, destination in wanted:
        if item.name not in computed:
            raise RetryableError(
                f"spec.operatorSpec: value {item.name!r} is not available yet", reason="ExportFailed"
            )
        key = str(destination.get("key") or item.name)
        grouped.setdefault((item.secret, str(destination["name"])), {})[key] = computed[item.name]
    for (secret, name), data in sorted(grouped.items()):
        await _write(kube, ctx, secret, name, data)


async def _values(target: Target, resource: Mapping[str, Any], exports: list[Export]) -> dict[str, str]:
    """The declared exports: a path into the resource, or into the response of a POST action."""
    responses: dict[tuple[str, str], Mapping[str, Any]] = {}
    out: dict[str, str] = {}
    for item in exports:
        source: Mapping[str, Any] = resource
        if item.action:
            version = item.action_api_version or target.api_version.arm_api_version
            key = (item.action, version)
            if key not in responses:
                responses[key] = await target.arm.post(target.arm_id, item.action, version)
            source = responses[key]
        value = get_path(source, item.path)
        if value is not None:
            out[item.name] = str(value)
    return out


async def _write(
    kube: KubeClient, ctx: ObjectContext, secret: bool, name: str, data: Mapping[str, str]
) -> None:
    plural = "secrets" if secret else "configmaps"
    path = resource_path("", "v1", plural, ctx.namespace, None)
    existing = await kube.get(f"{path}/{name}")
    uid = ctx.metadata.get("uid")
    if existing is not None:
        owners = (existing.get("metadata") or {}).get("ownerReferences") or []
        if not any(o.get("uid") == uid for o in owners):
            raise PermanentError(
                f"spec.operatorSpec: {'Secret' if secret else 'ConfigMap'} {ctx.namespace}/{name} exists "
                "and is not owned by this resource; choose another name",
                reason="ExportConflict",
            )
    payload: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret" if secret else "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": ctx.namespace,
            "ownerReferences": [
                {
                    "apiVersion": ctx.body.get("apiVersion"),
                    "kind": ctx.kind.kind,
                    "name": ctx.name,
                    "uid": uid,
                    "controller": True,
                }
            ],
        },
    }
    if secret:
        payload["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    else:
        payload["data"] = dict(data)
    current = (existing or {}).get("data") or {}
    if existing is not None and all(current.get(k) == v for k, v in payload["data"].items()):
        return
    await kube.apply_object(path, name, payload)
