"""Structural openAPIV3Schema: pruning, defaulting and validation with the API server's field errors.

The order is the real server's: prune unknown fields (reporting their paths for the
``fieldValidation`` modes), apply ``default``s, then validate. Paths are written the way
Kubernetes names fields: ``spec.items[0].name``, map keys as ``spec.tags[key]``.

Validation is the ``jsonschema`` library's (Draft 2020-12), the one JSON Schema validator of aso
(the schema checks of :mod:`aso.schemas` and the tests use it too): a structural schema is
translated once into JSON Schema (``nullable``, ``x-kubernetes-int-or-string``, OpenAPI's boolean
``exclusiveMinimum``/``exclusiveMaximum``, Kubernetes' formats, the object root's
``apiVersion``/``kind``/``metadata`` left to the metadata checks), its validator compiled and kept
per schema, and each error turned into the field error the real server words. Pruning and
defaulting stay hand-written: no JSON Schema library removes unknown fields or fills defaults the
way Kubernetes does (``x-kubernetes-preserve-unknown-fields``, embedded resources, ``nullable``
against ``default``).
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import jsonschema

from . import errors
from .builtin import OBJECT_META
from .errors import Cause

Json = dict[str, Any]

# Fields every object keeps whatever its schema says: the server owns them.
_ROOT_FIELDS = ("apiVersion", "kind", "metadata")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _is_preserving(schema: Json) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def prune(value: Any, schema: Json | None, path: str = "", *, root: bool = True) -> list[str]:
    """Drop fields the schema does not know, in place; return their paths (``spec.foo``)."""
    if schema is None:
        return []
    unknown: list[str] = []
    _prune(value, schema, path, unknown, root)
    return unknown


def _prune(value: Any, schema: Json, path: str, unknown: list[str], root: bool) -> None:
    if isinstance(value, dict):
        props: Json = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        embedded = root or bool(schema.get("x-kubernetes-embedded-resource"))
        preserve = _is_preserving(schema)
        for key in list(value):
            if embedded and key in _ROOT_FIELDS:
                if key == "metadata" and isinstance(value[key], dict):
                    _prune(value[key], OBJECT_META, _join(path, key), unknown, False)
                continue
            child_path = _join(path, key)
            if key in props:
                _prune(value[key], props[key], child_path, unknown, False)
            elif isinstance(additional, dict):
                _prune(value[key], additional, f"{path}[{key}]" if path else key, unknown, False)
            elif additional is True or preserve:
                continue
            else:
                unknown.append(child_path)
                del value[key]
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _prune(item, items, f"{path}[{i}]", unknown, False)


def apply_defaults(value: Any, schema: Json | None) -> None:
    """Fill ``default`` values of absent properties, in place, recursively."""
    if schema is None:
        return
    if isinstance(value, dict):
        props: Json = schema.get("properties") or {}
        for key, sub in props.items():
            if (key not in value and "default" in sub) or (
                value.get(key) is None and key in value and "default" in sub and not sub.get("nullable")
            ):
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                apply_defaults(value[key], sub)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            for key in value:
                if key not in props:
                    apply_defaults(value[key], additional)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for item in value:
                apply_defaults(item, items)


# -- validation ---------------------------------------------------------------------------------

# Keywords of a structural schema that mean the same in JSON Schema and are passed on as they are.
_SAME_KEYWORDS = (
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "format",
)
_ANY_BUT_NULL = ["object", "array", "string", "number", "integer", "boolean"]
# Marks, in a translated schema, what the error messages need of the original (ignored by jsonschema).
_K8S_TYPE = "x-aso-k8s-type"
_REQUIRED = "x-aso-required"


def _to_json_schema(node: Json, *, root: bool = False, required: bool = False) -> Json:
    """The JSON Schema (Draft 2020-12) that validates what the structural ``node`` does.

    ``required``: the node is a required property of its parent, so ``null`` there is "Required
    value" (Kubernetes' reading) unless the node is ``nullable``.
    """
    out: Json = {key: node[key] for key in _SAME_KEYWORDS if key in node}
    nullable = bool(node.get("nullable"))
    if node.get("x-kubernetes-int-or-string"):
        types = ["integer", "string"]
    elif node.get("type"):
        types = [node["type"]]
    else:
        types = [] if nullable or not required else list(_ANY_BUT_NULL)
    if types:
        out["type"] = [*types, "null"] if nullable else types
    out[_K8S_TYPE] = "integer,string" if node.get("x-kubernetes-int-or-string") else node.get("type")
    if required and not nullable:
        out[_REQUIRED] = True
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if bound in node:
            out[exclusive if node.get(exclusive) is True else bound] = node[bound]
    names = set(node.get("required") or ())
    if names:
        out["required"] = list(node["required"])
    properties = {
        name: _to_json_schema(sub, required=name in names)
        for name, sub in (node.get("properties") or {}).items()
    }
    if root or node.get("x-kubernetes-embedded-resource"):  # the metadata checks' business
        for key in _ROOT_FIELDS:
            properties.pop(key, None)
            if isinstance(node.get("additionalProperties"), dict):
                properties[key] = {}
    if properties:
        out["properties"] = properties
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):  # a boolean additionalProperties is pruning's business
            out[key] = _to_json_schema(node[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if node.get(key):
            out[key] = [_to_json_schema(sub) for sub in node[key]]
    return out


def _format_ok(value: Any, fmt: str) -> bool:
    """Kubernetes' formats (``int32`` for numbers, the others for strings); others pass."""
    if fmt == "int32":
        return isinstance(value, bool) or not isinstance(value, int | float) or -(2**31) <= value < 2**31
    if not isinstance(value, str):
        return True
    try:
        if fmt == "date-time":
            datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        elif fmt == "date":
            datetime.strptime(value, "%Y-%m-%d")
        elif fmt == "byte":
            base64.b64decode(value, validate=True)
        elif fmt == "uuid":
            uuid.UUID(value)
    except (ValueError, binascii.Error):
        return False
    return True


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())
    for fmt in ("date-time", "date", "byte", "uuid", "int32"):
        checker.checks(fmt)(functools.partial(_format_ok, fmt=fmt))
    return checker


_FORMATS = _format_checker()

# Compiled validators by the id of the structural schema they were made from (a CRD version keeps
# its schema object for its life; the schema is kept here too, so an id is never reused under us).
_VALIDATORS: dict[int, tuple[Json, jsonschema.Draft202012Validator]] = {}
_MAX_VALIDATORS = 1024


def _validator(schema: Json) -> jsonschema.Draft202012Validator:
    cached = _VALIDATORS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    if len(_VALIDATORS) >= _MAX_VALIDATORS:
        _VALIDATORS.clear()
    validator = jsonschema.Draft202012Validator(_to_json_schema(schema, root=True), format_checker=_FORMATS)
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


def validate(value: Any, schema: Json | None) -> list[Cause]:
    """Validate an object against its structural schema; return the field errors, empty when valid."""
    if schema is None:
        return []
    found = list(_validator(schema).iter_errors(value))
    # Kubernetes reports a value of the wrong type once, and nothing else about it; a null that
    # may be null passes every other keyword.
    wrong_type = {_field(e) for e in found if e.validator == "type"}
    causes: list[Cause] = []
    for error in found:
        path = _field(error)
        if error.validator != "type" and (path in wrong_type or error.instance is None):
            continue
        causes += _causes(error, path)
    return list(dict.fromkeys(causes))


def _field(error: jsonschema.ValidationError) -> str:
    """The Kubernetes field path of an error: ``spec.items[0].name``, ``spec.tags[key]``."""
    path = ""
    instance_path = list(error.absolute_path)
    schema_path = list(error.absolute_schema_path)
    i = 0
    while i < len(schema_path):
        token = schema_path[i]
        if token == "properties" and i + 1 < len(schema_path):
            path = _join(path, str(instance_path.pop(0)))
            i += 1
        elif token == "additionalProperties":
            key = instance_path.pop(0)
            path = f"{path}[{key}]" if path else str(key)
        elif token == "items":
            path = f"{path}[{instance_path.pop(0)}]"
        i += 1
    return path


def _causes(error: jsonschema.ValidationError, path: str) -> Iterator[Cause]:
    """The field errors of one jsonschema error, in the API server's words."""
    keyword = error.validator
    # A reported error always has these (jsonschema types them as possibly unset).
    value: Any = error.instance
    bound: Any = error.validator_value
    schema: Json = error.schema if isinstance(error.schema, dict) else {}
    shown = path or "<root>"
    if keyword == "type":
        if value is None and schema.get(_REQUIRED):
            yield errors.required(path)
            return
        actual = _json_type(value)
        expected = schema.get(_K8S_TYPE)
        yield errors.type_invalid(path, actual, f'{shown} in body must be of type {expected}: "{actual}"')
    elif keyword == "required":
        for name in bound:
            if name not in value:
                yield errors.required(_join(path, name))
    elif keyword == "enum":
        yield errors.not_supported(path, value, list(bound))
    elif keyword == "maxLength":
        yield errors.too_long(path, bound)
    elif keyword == "minLength":
        yield errors.invalid(path, value, f"{shown} in body should be at least {bound} chars long")
    elif keyword == "pattern":
        yield errors.invalid(path, value, f"{shown} in body should match '{bound}'")
    elif keyword == "format" and bound == "int32":
        yield errors.invalid(path, value, f"{shown} in body must be of type int32")
    elif keyword == "format":
        yield errors.invalid(path, value, f'{shown} in body must be of type {bound}: "{value}"')
    elif keyword in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        relation = "greater than" if "inimum" in keyword else "less than"
        or_equal = "" if keyword.startswith("exclusive") else " or equal to"
        yield errors.invalid(path, value, f"{shown} in body should be {relation}{or_equal} {bound}")
    elif keyword == "multipleOf":
        yield errors.invalid(path, value, f"{shown} in body should be a multiple of {bound}")
    elif keyword in ("maxItems", "maxProperties"):
        yield errors.too_many(path, len(value), bound)
    elif keyword == "minItems":
        yield errors.invalid(path, len(value), f"{shown} in body should have at least {bound} items")
    elif keyword == "minProperties":
        yield errors.invalid(path, len(value), f"{shown} in body should have at least {bound} properties")
    elif keyword == "uniqueItems":
        duplicate = next((item for i, item in enumerate(value) if item in value[:i]), value[-1])
        yield Cause(
            reason="FieldValueDuplicate",
            field=path,
            message=f"Duplicate value: {errors.render_value(duplicate)}",
        )
    elif keyword == "anyOf":
        yield errors.invalid(path, value, f"{shown} in body must match at least one schema in anyOf")
    elif keyword == "oneOf":
        yield errors.invalid(path, value, f"{shown} in body must match exactly one schema in oneOf")
    elif keyword == "not":
        yield errors.invalid(path, value, f"{shown} in body must not validate the schema (not)")
    else:
        yield errors.invalid(path, value, f"{shown} in body: {error.message}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
