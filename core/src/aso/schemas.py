"""Reads the committed schema data of a kind's version and assembles its full object schema.

The data files are written by ``aso schemas`` (see ``aso.schemagen``) into each plugin package as
``schemas/<kind lowercased>.<version>.json``. They hold the ARM-derived ``spec`` and ``status``
schemas, annotated with ``x-aso-*`` keys that tell the reconciler how spec fields map to ARM. This
module adds what every kind shares in ASO's shape (``azureName``, ``owner``, ``operatorSpec``,
``status.conditions``) and can strip the ``x-aso-*`` keys for Kubernetes.

A storage version (``v1api20200601storage``) has no data file of its own: its schema is that of its
served version plus what ASO's storage types add, ``spec.originalVersion`` and a ``$propertyBag`` on
every object ASO generates a storage type for (not on references, secrets, owners or conditions).
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
from collections.abc import Mapping
from typing import Any

import jsonschema

from aso.kinds import ResourceKind, Scope

__all__ = [
    "EXTENSION_PREFIX",
    "ORIGINAL_VERSION_FIELD",
    "PROPERTY_BAG_FIELD",
    "object_schema",
    "strict",
    "strip_extensions",
    "validation_errors",
    "version_data",
]

EXTENSION_PREFIX = "x-aso-"

# ARM id of a resource or a resource group or a subscription; the same shape ASO's CRDs accept.
ARM_ID_PATTERN = (
    "(?i)(^(/subscriptions/([^/]+)(/resourcegroups/([^/]+))?)?/providers/([^/]+)/([^/]+/[^/]+)"
    "(/([^/]+/[^/]+))*$|^/subscriptions/([^/]+)(/resourcegroups/([^/]+))?$)"
)

_STRING = {"type": "string"}

#: ``spec.originalVersion`` of a storage version: the served version the object was last written in.
ORIGINAL_VERSION_FIELD = "originalVersion"
#: ASO's property bag on the objects of a storage version: property name -> value (JSON, or the bare
#: string for a string value).
PROPERTY_BAG_FIELD = "$propertyBag"

_ORIGINAL_VERSION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "description": "The served version the object was last written in (set by the conversion webhook).",
}
_PROPERTY_BAG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": "string"},
    "description": "Properties of other versions that this version has no place for (ASO's PropertyBag).",
}
# Nodes marked with these x-aso-kind values are ASO's shared genruntime types (references, secret
# and config references), which carry no property bag in ASO's storage versions.
_NO_BAG_KINDS = frozenset({"reference", "secret", "config"})


def _ref_object(*names: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {n: dict(_STRING) for n in names}}
    if required:
        schema["required"] = list(required)
    return schema


CONDITION_SCHEMA: dict[str, Any] = {
    "description": "Condition defines an extension to status (an observation) of a resource",
    "type": "object",
    "properties": {
        "lastTransitionTime": {"type": "string", "format": "date-time"},
        "message": {"type": "string"},
        "observedGeneration": {"type": "integer", "format": "int64"},
        "reason": {"type": "string"},
        "severity": {"type": "string"},
        "status": {"type": "string"},
        "type": {"type": "string"},
    },
    "required": ["lastTransitionTime", "status", "type"],
}


@functools.cache
def version_data(package: str, kind: str, version: str) -> dict[str, Any]:
    """The committed schema data of one kind version (cached; treat as read-only)."""
    path = importlib.resources.files(package) / "schemas" / f"{kind.lower()}.{version}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"no schema data for {kind} {version} in package {package!r} (expected {path}); "
            "run `aso schemas <plugin dir>` to generate it"
        ) from exc
    data: dict[str, Any] = json.loads(text)
    return data


def _owner_schema(kind: ResourceKind) -> dict[str, Any] | None:
    arm_id = {"type": "string", "pattern": ARM_ID_PATTERN}
    if kind.owner is Scope.SUBSCRIPTION:
        return None
    schema = _ref_object("group", "kind", "name") if kind.owner is Scope.EXTENSION else _ref_object("name")
    schema["properties"]["armId"] = arm_id
    schema["description"] = (
        "The owner of this resource: another custom resource in the same namespace (by name) "
        "or an existing Azure resource (by armId)."
    )
    return schema


def _operator_spec_schema(kind: ResourceKind) -> dict[str, Any]:
    """``spec.operatorSpec``, present on every kind as in ASO; it holds the kind's exports."""
    destination = _ref_object("name", "key", required=("name",))
    secrets = {e.name: copy.deepcopy(destination) for e in kind.exports if e.secret}
    config_maps = {e.name: copy.deepcopy(destination) for e in kind.exports if not e.secret}
    props: dict[str, Any] = {}
    if secrets:
        props["secrets"] = {"type": "object", "properties": secrets}
    if config_maps:
        props["configMaps"] = {"type": "object", "properties": config_maps}
    return {
        "type": "object",
        "description": "Settings of the operator, not sent to Azure.",
        "properties": props,
    }


def _azure_name_schema(kind: ResourceKind) -> dict[str, Any]:
    """``spec.azureName`` with the kind's ARM naming rule, so the API server refuses bad names."""
    schema: dict[str, Any] = {
        "type": "string",
        "description": "The name of the resource in Azure; defaults to metadata.name when omitted.",
    }
    rule = kind.name_rule
    if rule is not None:
        schema["minLength"] = rule.min_length
        if rule.max_length is not None:
            schema["maxLength"] = rule.max_length
        if rule.pattern is not None:
            schema["pattern"] = f"^(?:{rule.pattern})$"
    return schema


def _with_property_bags(node: Any) -> None:
    """Give every generated object schema under ``node`` ASO's ``$propertyBag`` (in place)."""
    if not isinstance(node, dict) or node.get(f"{EXTENSION_PREFIX}kind") in _NO_BAG_KINDS:
        return
    props = node.get("properties")
    if isinstance(props, dict):
        for child in props.values():
            _with_property_bags(child)
        props[PROPERTY_BAG_FIELD] = copy.deepcopy(_PROPERTY_BAG_SCHEMA)
    for key in ("items", "additionalProperties"):
        _with_property_bags(node.get(key))


@functools.cache
def object_schema(kind: ResourceKind, version: str) -> dict[str, Any]:
    """The openAPIV3 schema of a whole object of ``kind`` at ``version`` (still with ``x-aso-*`` keys).

    ``version`` is a served version or its storage version (``v1api20200601storage``). Built once per
    kind and version (the reconciler asks on every reconcile); treat it as read-only.
    """
    served = kind.served_version_of(version).name
    storage = served != version
    data = version_data(kind.schema_package, kind.kind, served)
    spec = copy.deepcopy(data["spec"])
    status = copy.deepcopy(data["status"])
    if storage:
        _with_property_bags(spec)
        _with_property_bags(status)
    spec.setdefault("type", "object")
    spec_props: dict[str, Any] = spec.setdefault("properties", {})
    required: list[str] = list(spec.get("required", []))
    if kind.azure_name is None:
        spec_props["azureName"] = _azure_name_schema(kind)
    owner = _owner_schema(kind)
    if owner is not None:
        spec_props["owner"] = owner
        required.append("owner")
    spec_props["operatorSpec"] = _operator_spec_schema(kind)
    if storage:
        spec_props["operatorSpec"]["properties"][PROPERTY_BAG_FIELD] = copy.deepcopy(_PROPERTY_BAG_SCHEMA)
        spec_props[ORIGINAL_VERSION_FIELD] = copy.deepcopy(_ORIGINAL_VERSION_SCHEMA)
        bag = _PROPERTY_BAG_SCHEMA
        spec_props.setdefault(PROPERTY_BAG_FIELD, copy.deepcopy(bag))
        status.setdefault("properties", {}).setdefault(PROPERTY_BAG_FIELD, copy.deepcopy(bag))
    if required:
        spec["required"] = sorted(set(required))

    status.setdefault("type", "object")
    status_props: dict[str, Any] = status.setdefault("properties", {})
    status_props["conditions"] = {
        "type": "array",
        "description": "Observations of the operator; the Ready condition tells if the resource is ready.",
        "items": copy.deepcopy(CONDITION_SCHEMA),
    }
    status_props.setdefault("id", {"type": "string", "description": "The ARM id of the resource."})
    return resource_schema(spec, status)


def resource_schema(spec: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    """The openAPIV3 schema of a custom resource: ``apiVersion``, ``kind``, ``metadata``, and the
    given ``spec`` and ``status`` schemas."""
    return {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }


def strip_extensions(schema: Any) -> Any:
    """A copy of ``schema`` without the ``x-aso-*`` mapping keys (Kubernetes rejects unknown keys)."""
    if isinstance(schema, dict):
        return {k: strip_extensions(v) for k, v in schema.items() if not k.startswith(EXTENSION_PREFIX)}
    if isinstance(schema, list):
        return [strip_extensions(v) for v in schema]
    return schema


def strict(schema: Any) -> Any:
    """``schema`` with unknown fields forbidden wherever Kubernetes' Strict field validation forbids
    them: every object that lists ``properties`` and neither preserves unknown fields nor declares
    ``additionalProperties``. (CRDs must not carry this; it is for validating manifests.)"""
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def validation_errors(kind: ResourceKind, obj: Mapping[str, Any]) -> list[str]:
    """Every way ``obj`` (a whole manifest) breaks the schema of its version, each message starting
    with the dotted path of the field at fault; unknown fields count as errors (Strict)."""
    version = str(obj.get("apiVersion", "")).rpartition("/")[2]
    if all(v.name != version for v in kind.versions):
        served = ", ".join(v.name for v in kind.versions)
        return [f"apiVersion: {obj.get('apiVersion')!r} is not served; served versions: {served}"]
    schema = strict(strip_extensions(object_schema(kind, version)))
    validator = jsonschema.Draft202012Validator(schema)
    messages = []
    for error in sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            for name in unknown:
                messages.append(f"{path + '.' if path else ''}{name}: unknown field")
            continue
        messages.append(f"{path or '<root>'}: {error.message}")
    return messages
