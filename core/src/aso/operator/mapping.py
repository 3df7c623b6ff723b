"""Between ``spec``/``status`` and ARM bodies, driven by the ``x-aso-*`` keys of the schema data.

``spec`` -> ARM: flattened fields go back under their ARM path (``x-aso-arm``), references become
ARM ids, Secret and ConfigMap references become their values. ARM -> ``status``: the inverse, minus
anything the status schema has no place for. Drift: compare only what the desired body sets, with
ARM's normalisation in mind (``westus2`` is ``West US 2``, ``"6"`` is ``"6.0"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from aso.common import get_path, set_path

__all__ = ["OPERATOR_FIELDS", "Resolver", "arm_body", "differences", "status_from_arm"]

#: Top-level spec fields that are the operator's, never sent to ARM.
OPERATOR_FIELDS = frozenset({"azureName", "owner", "operatorSpec"})
_MISSING = object()
_VERSIONISH = re.compile(r"^\d+(\.\d+)*$")


class Resolver(Protocol):
    """Looks up the values that spec fields only point at; raises aso errors naming what is missing."""

    async def secret(self, name: str, key: str, field: str) -> str: ...

    async def config(self, name: str, key: str, field: str) -> str: ...

    async def reference(self, ref: Mapping[str, Any], field: str) -> str: ...


async def _to_arm(
    node: Mapping[str, Any], value: Any, field: str, arm_path: str, resolver: Resolver, secrets: set[str]
) -> Any:
    """``value`` of spec ``field`` as ARM wants it at ``arm_path``; secret ARM paths go into ``secrets``."""
    kind = node.get("x-aso-kind")
    if kind == "reference":
        return await resolver.reference(value, field)
    if kind == "secret":
        secrets.add(arm_path)
        return await resolver.secret(str(value.get("name", "")), str(value.get("key", "")), field)
    if kind == "config":
        return await resolver.config(str(value.get("name", "")), str(value.get("key", "")), field)
    if kind == "identities":
        ids = [
            await resolver.reference(item.get("reference", {}), f"{field}[{i}].reference")
            for i, item in enumerate(value)
        ]
        return {arm_id: {} for arm_id in ids}
    if kind == "union" and isinstance(value, Mapping):
        options: Mapping[str, Any] = node.get("properties", {})
        for name, option_value in value.items():
            if name in options and option_value is not None:
                return await _object_to_arm(
                    options[name], option_value, f"{field}.{name}", arm_path, resolver, secrets
                )
        return {}
    if isinstance(value, Mapping) and "properties" in node:
        return await _object_to_arm(node, value, field, arm_path, resolver, secrets)
    if isinstance(value, Mapping) and isinstance(node.get("additionalProperties"), Mapping):
        extra = node["additionalProperties"]
        return {
            k: await _to_arm(extra, v, f"{field}.{k}", f"{arm_path}.{k}", resolver, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list) and isinstance(node.get("items"), Mapping):
        return [
            await _to_arm(node["items"], v, f"{field}[{i}]", f"{arm_path}[{i}]", resolver, secrets)
            for i, v in enumerate(value)
        ]
    return value


async def _object_to_arm(
    node: Mapping[str, Any],
    value: Mapping[str, Any],
    field: str,
    arm_path: str,
    resolver: Resolver,
    secrets: set[str],
    skip: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    props: Mapping[str, Any] = node.get("properties", {})
    out: dict[str, Any] = {}
    deferred_config: list[tuple[str, Any]] = []
    for key, item in value.items():
        child = props.get(key)
        if key in skip or child is None or item is None:
            continue
        if child.get("x-aso-kind") == "config":
            deferred_config.append((key, item))
            continue
        await _convert_child(out, child, key, item, field, arm_path, resolver, secrets)
    for key, item in deferred_config:
        if get_path(out, props[key].get("x-aso-arm", key), _MISSING) is _MISSING:
            # a value given directly wins over its ...FromConfig twin
            await _convert_child(out, props[key], key, item, field, arm_path, resolver, secrets)
    return out


async def _convert_child(
    out: dict[str, Any],
    child: Mapping[str, Any],
    key: str,
    item: Any,
    field: str,
    arm_path: str,
    resolver: Resolver,
    secrets: set[str],
) -> None:
    relative = child.get("x-aso-arm", key)
    child_field = f"{field}.{key}" if field else key
    child_arm = f"{arm_path}.{relative}" if arm_path else relative
    set_path(out, relative, await _to_arm(child, item, child_field, child_arm, resolver, secrets))


async def arm_body(
    spec_schema: Mapping[str, Any], spec: Mapping[str, Any], resolver: Resolver
) -> tuple[dict[str, Any], set[str]]:
    """The ARM PUT body for ``spec`` and the ARM paths of write-only (secret) values in it."""
    secrets: set[str] = set()
    body = await _object_to_arm(spec_schema, spec, "", "", resolver, secrets, skip=OPERATOR_FIELDS)
    return body, secrets


def _matches_type(node: Mapping[str, Any], value: Any) -> bool:
    expected = node.get("type")
    if (
        expected is None
        or node.get("x-kubernetes-preserve-unknown-fields")
        or node.get("x-kubernetes-int-or-string")
    ):
        return True
    checks: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "object": dict,
        "array": list,
    }
    wanted = checks.get(str(expected))
    if wanted is None:
        return True
    if isinstance(value, bool) and expected in ("integer", "number"):
        return False
    return isinstance(value, wanted)


def _from_arm(node: Mapping[str, Any], value: Any) -> Any:
    if not _matches_type(node, value):
        return _MISSING
    if node.get("x-aso-kind") == "union" and isinstance(value, Mapping):
        discriminator = node.get("x-aso-discriminator")
        for name, option in node.get("properties", {}).items():
            if discriminator and option.get("x-aso-discriminator-value") == value.get(discriminator):
                return {name: _from_arm(option, value)}
        return _MISSING
    if isinstance(value, Mapping) and "properties" in node:
        out: dict[str, Any] = {}
        for key, child in node["properties"].items():
            raw = get_path(value, child.get("x-aso-arm", key), _MISSING)
            if raw is _MISSING or raw is None:
                continue
            converted = _from_arm(child, raw)
            if converted is not _MISSING:
                out[key] = converted
        return out
    if isinstance(value, Mapping) and isinstance(node.get("additionalProperties"), Mapping):
        extra = node["additionalProperties"]
        items = {k: _from_arm(extra, v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not _MISSING}
    if isinstance(value, list) and isinstance(node.get("items"), Mapping):
        converted_items = [_from_arm(node["items"], v) for v in value]
        return [v for v in converted_items if v is not _MISSING]
    return value


def status_from_arm(status_schema: Mapping[str, Any], resource: Mapping[str, Any]) -> dict[str, Any]:
    """``status`` fields from an ARM resource body (fields of the wrong type are left out)."""
    result = _from_arm(
        {
            **status_schema,
            "type": "object",
            "properties": {k: v for k, v in status_schema.get("properties", {}).items() if k != "conditions"},
        },
        resource,
    )
    return result if isinstance(result, dict) else {}


def _normalise(path: str, value: Any) -> Any:
    if isinstance(value, str):
        last = path.rsplit(".", 1)[-1]
        # Regions: `location`, and `locationName` in lists of regions (Cosmos DB accounts'
        # locations); ARM answers either with the display name ("West US 2" for westus2).
        if last in ("location", "locationName"):
            return value.replace(" ", "").lower()
        if _VERSIONISH.match(value):
            parts = [int(p) for p in value.split(".")]
            while len(parts) > 1 and parts[-1] == 0:
                parts.pop()
            return tuple(parts)
        if ".tags." in f".{path}." and not path.endswith(".tags"):
            return value  # tag values are the user's data: exact
        return value.lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


def _lookup(actual: Mapping[str, Any], key: str) -> Any:
    if key in actual:
        return actual[key]
    lowered = key.lower()
    for k, v in actual.items():
        if k.lower() == lowered:
            return v
    return _MISSING


def differences(desired: Any, actual: Any, ignore: frozenset[str] = frozenset(), path: str = "") -> list[str]:
    """Paths where ``actual`` (ARM's GET) differs from what ``desired`` (our PUT body) sets.

    Only what ``desired`` sets is compared: server-side defaults and read-only fields are no drift.
    ``ignore`` holds ARM paths never returned by a GET (write-only secrets).
    """
    if path in ignore:
        return []
    if isinstance(desired, Mapping):
        if not isinstance(actual, Mapping):
            return [path or "<root>"]
        found: list[str] = []
        for key, want in desired.items():
            child = f"{path}.{key}" if path else key
            have = _lookup(actual, key)
            if have is _MISSING:
                if child not in ignore and want not in (None, {}, []):
                    found.append(child)
                continue
            found.extend(differences(want, have, ignore, child))
        return found
    if isinstance(desired, list):
        if not isinstance(actual, list) or len(actual) != len(desired):
            return [path]
        return [
            d
            for i, (w, h) in enumerate(zip(desired, actual, strict=True))
            for d in differences(w, h, ignore, f"{path}[{i}]")
        ]
    if _version_prefix(desired, actual):
        return []
    return [] if _normalise(path, desired) == _normalise(path, actual) else [path]


def _version_prefix(desired: Any, actual: Any) -> bool:
    """A version given by fewer parts than the service answers (``"6"`` or ``"6.0"``, answered
    ``"6.0.14"``: Redis 2020-12-01) asks for that line, and any release of it satisfies it."""
    if not (isinstance(desired, str) and isinstance(actual, str)):
        return False
    if not (_VERSIONISH.match(desired) and _VERSIONISH.match(actual)):
        return False
    want, have = desired.split("."), actual.split(".")
    return len(want) < len(have) and [int(p) for p in have[: len(want)]] == [int(p) for p in want]
