"""Turning SDK model fields into ASO-shaped openAPI v3 schemas for ``spec`` and ``status``.

The shape follows ASO v2 so its users' YAML fits: ARM ``properties`` flattened where
the SDK flattens it, ARM-id properties become ``*Reference`` objects, secret inputs
become Secret references, ConfigMap-importable values gain ``*FromConfig``. Each node
whose ARM location differs from its spec name carries ``x-aso-arm`` (ARM path relative
to the parent object) and, for references/secrets/config, ``x-aso-kind``; the core
reads those to map spec <-> ARM and strips every ``x-aso-*`` key from the CRDs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aso.schemagen.models import (
    ArrayOf,
    Field,
    MapOf,
    ModelOf,
    Resolver,
    Scalar,
    Subtypes,
    TypeRef,
    Unknown,
    default_resolver,
    model_fields,
    model_subtypes,
)

Schema = dict[str, Any]

# ARM envelope properties the core owns (azureName, owner) or that are never user input.
ROOT_SPEC_EXCLUDED = frozenset({"name", "id", "type", "etag", "systemData"})

ConfigMode = Literal["optional", "required"]


@dataclass(frozen=True, kw_only=True)
class PropertyFacts:
    """What ASO's ``v2/azure-arm.yaml`` says about one property, plus our overrides."""

    arm_reference: bool = False
    is_secret: bool = False
    import_config_map_mode: ConfigMode | None = None
    rename: str | None = None
    #: Overrides whether ``spec`` requires the property (``None``: as the SDK says).
    required: bool | None = None
    #: Values added to the SDK's enum in ``spec`` (ASO's additions, e.g. ``createOrRecover``).
    add_enum: tuple[str, ...] = ()


class SchemaGenError(ValueError):
    """The configuration does not fit the model (e.g. a fact names no property)."""


def secret_reference_schema() -> Schema:
    """ASO's SecretReference: the Secret ``name`` in the resource's namespace and its ``key``."""
    return {
        "type": "object",
        "description": "A reference to a key of a Kubernetes Secret in the resource's namespace.",
        "properties": {"name": {"type": "string"}, "key": {"type": "string"}},
        "required": ["key", "name"],
    }


def config_map_reference_schema() -> Schema:
    return {
        "type": "object",
        "description": "A reference to a key of a Kubernetes ConfigMap in the resource's namespace.",
        "properties": {"name": {"type": "string"}, "key": {"type": "string"}},
        "required": ["key", "name"],
    }


def resource_reference_schema() -> Schema:
    """ASO's ResourceReference: an ARM id, or group/kind/name of a custom resource."""
    return {
        "type": "object",
        "description": "An ARM id (armId), or the group, kind and name of a resource in the same namespace.",
        "properties": {
            "armId": {"type": "string"},
            "group": {"type": "string"},
            "kind": {"type": "string"},
            "name": {"type": "string"},
        },
    }


def user_assigned_identities_schema() -> Schema:
    """ASO's spec shape of ARM's ``{"<identity ARM id>": {}}`` map: a list of references."""
    reference = resource_reference_schema()
    reference["x-aso-kind"] = "reference"
    return {
        "type": "array",
        "description": "The user-assigned identities, each a reference to an identity resource.",
        "items": {"type": "object", "properties": {"reference": reference}, "required": ["reference"]},
    }


def reference_name(name: str) -> str:
    """ASO's renaming of ARM-id properties: ``subnetId`` -> ``subnetReference``, ``id`` -> ``reference``."""
    if name == "id":
        return "reference"
    if name == "ids":
        return "references"
    if name.endswith("Ids"):
        return name[:-3] + "References"
    if name.endswith("Id"):
        return name[:-2] + "Reference"
    return name + "Reference"


def _join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


class SchemaBuilder:
    """Builds the spec and status schemas of one root model class.

    ``facts`` is keyed by full ARM path from the resource body, arrays transparent
    (``properties.networkAcls.virtualNetworkRules.id``).
    """

    def __init__(
        self,
        root: type,
        facts: Mapping[str, PropertyFacts] | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        self.root = root
        self.facts = dict(facts or {})
        self.resolve = resolve or default_resolver(root)
        self._used_facts: set[str] = set()
        self._fields_cache: dict[type, list[Field]] = {}

    # -- shared ---------------------------------------------------------------

    def _fields(self, cls: type) -> list[Field]:
        if cls not in self._fields_cache:
            self._fields_cache[cls] = model_fields(cls, self.resolve)
        return self._fields_cache[cls]

    def _facts(self, full_path: str) -> PropertyFacts:
        if full_path in self.facts:
            self._used_facts.add(full_path)
            return self.facts[full_path]
        return PropertyFacts()

    def unused_facts(self) -> set[str]:
        return set(self.facts) - self._used_facts

    @staticmethod
    def _annotate(node: Schema, spec_name: str, arm_path: tuple[str, ...], kind: str | None) -> Schema:
        arm = ".".join(arm_path)
        if arm != spec_name:
            node["x-aso-arm"] = arm
        if kind is not None:
            node["x-aso-kind"] = kind
        return node

    # -- spec -----------------------------------------------------------------

    def spec(self) -> Schema:
        schema = self._spec_object(self.root, "", (), root=True)
        return schema if schema is not None else {"type": "object"}

    def _spec_object(
        self, cls: type, prefix: str, stack: tuple[type, ...], *, root: bool = False
    ) -> Schema | None:
        if cls in stack:
            # Recursive model (e.g. an error with inner errors): stop and accept any JSON below.
            return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        properties: Schema = {}
        required: list[str] = []
        for f in self._fields(cls):
            if not f.write or (root and f.arm_path[0] in ROOT_SPEC_EXCLUDED):
                continue
            full_path = _join(prefix, *f.arm_path)
            facts = self._facts(full_path)
            name = facts.rename or f.arm_path[-1]
            if facts.is_secret:
                node: Schema = self._annotate(secret_reference_schema(), name, f.arm_path, "secret")
            elif f.arm_path[-1] == "userAssignedIdentities" and isinstance(f.type, MapOf):
                node = self._annotate(user_assigned_identities_schema(), name, f.arm_path, "identities")
            elif facts.arm_reference:
                name = reference_name(name) if not facts.rename else name
                node = self._reference_node(f.type)
                node = self._annotate(node, name, f.arm_path, "reference")
            else:
                built = self._spec_type(f.type, full_path, (*stack, cls))
                if built is None:
                    continue  # a nested object with nothing writable left
                node = self._annotate(_constrained(built, f.constraints), name, f.arm_path, None)
            if facts.add_enum:
                _add_enum(node, facts.add_enum, full_path)
            if f.description:
                node.setdefault("description", f.description)
            mode = facts.import_config_map_mode
            if mode is not None:
                config = config_map_reference_schema()
                config["x-aso-arm"] = ".".join(f.arm_path)
                config["x-aso-kind"] = "config"
                properties[f"{name}FromConfig"] = config
            if mode != "required":
                properties[name] = node
            is_required = f.required if facts.required is None else facts.required
            if is_required and not (root and f.arm_path == ("name",)):
                # optional ConfigMap import: either form may supply the value, so neither is required.
                if mode is None:
                    required.append(name)
                elif mode == "required":
                    required.append(f"{name}FromConfig")
        if not properties and not root:
            return None
        schema: Schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = sorted(required)
        return schema

    @staticmethod
    def _reference_node(type_ref: TypeRef) -> Schema:
        if isinstance(type_ref, ArrayOf):
            return {"type": "array", "items": resource_reference_schema()}
        return resource_reference_schema()

    def _spec_type(self, type_ref: TypeRef, path: str, stack: tuple[type, ...]) -> Schema | None:
        if isinstance(type_ref, Scalar):
            return _scalar(type_ref, with_enum=True)
        if isinstance(type_ref, ArrayOf):
            items = self._spec_type(type_ref.items, path, stack)
            return None if items is None else {"type": "array", "items": items}
        if isinstance(type_ref, MapOf):
            values = self._spec_type(type_ref.values, path, stack)
            return None if values is None else {"type": "object", "additionalProperties": values}
        if isinstance(type_ref, ModelOf):
            subtypes = self._subtypes(type_ref.cls)
            if subtypes is not None and type_ref.cls not in stack:
                return self._union(subtypes, path, stack, status=False)
            return self._spec_object(type_ref.cls, path, stack)
        assert isinstance(type_ref, Unknown)
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}

    # -- status ---------------------------------------------------------------

    def status(self) -> Schema:
        return self._status_object(self.root, "", ())

    def _status_object(self, cls: type, prefix: str, stack: tuple[type, ...]) -> Schema:
        if cls in stack:
            return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        properties: Schema = {}
        for f in self._fields(cls):
            full_path = _join(prefix, *f.arm_path)
            facts = self._facts(full_path)
            if not f.read or facts.is_secret:
                continue  # write-only: ARM never returns it
            name = facts.rename or f.arm_path[-1]
            node = self._status_type(f.type, full_path, (*stack, cls))
            self._annotate(node, name, f.arm_path, None)
            if f.description:
                node.setdefault("description", f.description)
            properties[name] = node
        return {"type": "object", "properties": properties}

    def _status_type(self, type_ref: TypeRef, path: str, stack: tuple[type, ...]) -> Schema:
        if isinstance(type_ref, Scalar):
            # No enum in status: Azure may report values newer than this API description.
            return _scalar(type_ref, with_enum=False)
        if isinstance(type_ref, ArrayOf):
            return {"type": "array", "items": self._status_type(type_ref.items, path, stack)}
        if isinstance(type_ref, MapOf):
            return {"type": "object", "additionalProperties": self._status_type(type_ref.values, path, stack)}
        if isinstance(type_ref, ModelOf):
            subtypes = self._subtypes(type_ref.cls)
            if subtypes is not None and type_ref.cls not in stack:
                union = self._union(subtypes, path, stack, status=True)
                assert union is not None  # status options always have their discriminator
                return union
            return self._status_object(type_ref.cls, path, stack)
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}

    # -- polymorphic models ---------------------------------------------------

    def _subtypes(self, cls: type) -> Subtypes | None:
        return model_subtypes(cls, self.resolve)

    def _union(
        self, subtypes: Subtypes, path: str, stack: tuple[type, ...], *, status: bool
    ) -> Schema | None:
        """ASO's shape for a discriminated union: one optional property per subtype.

        ``backupPolicy: {periodic: {type: Periodic, ...}}`` stands for the ARM object
        ``backupPolicy: {type: Periodic, ...}``: the reconciler sends the one option
        that is set and, reading ARM, files the object under the option whose
        ``x-aso-discriminator-value`` equals its discriminator.
        """
        options: Schema = {}
        for value, subclass in subtypes.options:
            if status:
                option: Schema | None = self._status_object(subclass, path, stack)
            else:
                option = self._spec_object(subclass, path, stack)
            if option is None:
                continue
            discriminator = option["properties"].get(subtypes.discriminator)
            if discriminator is not None and not status:
                # The option fixes the discriminator; status keeps it free like any status string.
                discriminator["enum"] = [value]
            option["x-aso-discriminator-value"] = value
            options[_option_name(value, subclass, options)] = option
        if not options:
            return None
        return {
            "type": "object",
            "properties": options,
            "x-aso-kind": "union",
            "x-aso-discriminator": subtypes.discriminator,
        }


# Keywords msrest states on an attribute that, for a list of strings, constrain each item.
_ITEM_KEYWORDS = frozenset({"pattern", "maxLength", "minLength", "maximum", "minimum", "multipleOf"})


def _constrained(node: Schema, constraints: Mapping[str, Any]) -> Schema:
    if not constraints:
        return node
    if node.get("type") == "array":
        items = {**node["items"], **{k: v for k, v in constraints.items() if k in _ITEM_KEYWORDS}}
        rest = {k: v for k, v in constraints.items() if k not in _ITEM_KEYWORDS}
        return {**node, "items": items, **rest}
    return {**node, **constraints}


def _add_enum(node: Schema, values: tuple[str, ...], path: str) -> None:
    target = node["items"] if node.get("type") == "array" else node
    if target.get("type") != "string":
        raise SchemaGenError(f"{path}: addEnum applies to a string (or list of strings) property")
    # Without an SDK enum the property takes any string already; the addition documents the value.
    if "enum" in target:
        target["enum"] = list(dict.fromkeys([*target["enum"], *values]))


def _option_name(value: str, subclass: type, taken: Mapping[str, Any]) -> str:
    """``Continuous`` -> ``continuous``; a value that gives no usable name falls back to the class."""
    cleaned = re.sub(r"[^0-9A-Za-z]", "", value)
    if not cleaned or cleaned[0].isdigit() or cleaned[0].lower() + cleaned[1:] in taken:
        cleaned = subclass.__name__
    return cleaned[0].lower() + cleaned[1:]


def _scalar(scalar: Scalar, *, with_enum: bool) -> Schema:
    node: Schema = {"type": scalar.type}
    if scalar.format:
        node["format"] = scalar.format
    if with_enum and scalar.enum:
        node["enum"] = list(scalar.enum)
    return node


def build_schemas(
    root: type,
    facts: Mapping[str, PropertyFacts] | None = None,
    resolve: Resolver | None = None,
    *,
    status_model: type | None = None,
) -> tuple[Schema, Schema]:
    """The (spec, status) schemas of an SDK model class; raises SchemaGenError on unused facts.

    ``status_model`` is the response model when it differs from the request model (ASO's
    separate status types), e.g. ``Vault`` beside ``VaultCreateOrUpdateParameters``; a fact
    counts as used when it names a property of either model.
    """
    builder = SchemaBuilder(root, facts, resolve)
    spec = builder.spec()
    if status_model is None or status_model is root:
        status = builder.status()
        unused = builder.unused_facts()
    else:
        status_builder = SchemaBuilder(status_model, facts, resolve)
        status = status_builder.status()
        unused = builder.unused_facts() & status_builder.unused_facts()
    if unused:
        raise SchemaGenError(
            f"{root.__qualname__}: facts name no property of the model: {', '.join(sorted(unused))}"
        )
    return spec, status
