"""Structural openAPIV3Schema: pruning, defaulting and validation with the API server's field errors.

The order is the real server's: prune unknown fields (reporting their paths for the
``fieldValidation`` modes), apply ``default``s, then validate. Paths are written the way
Kubernetes names fields: ``spec.items[0].name``, map keys as ``spec.tags[key]``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

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


def _type_ok(value: Any, expected: str) -> bool:
    actual = _json_type(value)
    if expected == actual:
        return True
    if expected == "number" and actual == "integer":
        return True
    return expected == "integer" and actual == "number" and float(value).is_integer()


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _format_ok(value: str, fmt: str) -> bool:
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


def validate(value: Any, schema: Json | None, path: str = "", *, root: bool = True) -> list[Cause]:
    """Validate against a structural schema; return the field errors, empty when valid."""
    if schema is None:
        return []
    causes: list[Cause] = []
    _validate(value, schema, path, causes, root)
    return causes


def _validate(value: Any, schema: Json, path: str, causes: list[Cause], root: bool) -> None:
    shown = path or "<root>"
    if value is None:
        if schema.get("nullable") or (
            not schema.get("type") and not schema.get("x-kubernetes-int-or-string")
        ):
            return
        causes.append(
            errors.type_invalid(path, "null", f'{shown} in body must be of type {schema.get("type")}: "null"')
        )
        return
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, str) and _json_type(value) != "integer":
            actual = _json_type(value)
            causes.append(
                errors.type_invalid(
                    path, actual, f'{shown} in body must be of type integer,string: "{actual}"'
                )
            )
            return
    else:
        expected = schema.get("type")
        if expected and not _type_ok(value, expected):
            actual = _json_type(value)
            causes.append(
                errors.type_invalid(path, actual, f'{shown} in body must be of type {expected}: "{actual}"')
            )
            return
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        causes.append(errors.not_supported(path, value, list(enum)))
    if isinstance(value, str):
        _validate_string(value, schema, path, shown, causes)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _validate_number(value, schema, path, shown, causes)
    elif isinstance(value, list):
        _validate_array(value, schema, path, shown, causes)
    elif isinstance(value, dict):
        _validate_object(value, schema, path, shown, causes, root)
    for sub in schema.get("allOf") or []:
        _validate(value, sub, path, causes, False)
    any_of = schema.get("anyOf")
    if any_of and not any(not validate(value, sub, path, root=False) for sub in any_of):
        causes.append(errors.invalid(path, value, f"{shown} in body must match at least one schema in anyOf"))
    one_of = schema.get("oneOf")
    if one_of and sum(1 for sub in one_of if not validate(value, sub, path, root=False)) != 1:
        causes.append(errors.invalid(path, value, f"{shown} in body must match exactly one schema in oneOf"))
    negated = schema.get("not")
    if isinstance(negated, dict) and not validate(value, negated, path, root=False):
        causes.append(errors.invalid(path, value, f"{shown} in body must not validate the schema (not)"))


def _validate_string(value: str, schema: Json, path: str, shown: str, causes: list[Cause]) -> None:
    max_length = schema.get("maxLength")
    if max_length is not None and len(value) > max_length:
        causes.append(errors.too_long(path, max_length))
    min_length = schema.get("minLength")
    if min_length is not None and len(value) < min_length:
        causes.append(
            errors.invalid(path, value, f"{shown} in body should be at least {min_length} chars long")
        )
    pattern = schema.get("pattern")
    if pattern is not None and not _regex(pattern).search(value):
        causes.append(errors.invalid(path, value, f"{shown} in body should match '{pattern}'"))
    fmt = schema.get("format")
    if fmt and not _format_ok(value, fmt):
        causes.append(errors.invalid(path, value, f'{shown} in body must be of type {fmt}: "{value}"'))


def _validate_number(value: float, schema: Json, path: str, shown: str, causes: list[Cause]) -> None:
    minimum = schema.get("minimum")
    if minimum is not None:
        if schema.get("exclusiveMinimum") and value <= minimum:
            causes.append(errors.invalid(path, value, f"{shown} in body should be greater than {minimum}"))
        elif value < minimum:
            causes.append(
                errors.invalid(path, value, f"{shown} in body should be greater than or equal to {minimum}")
            )
    maximum = schema.get("maximum")
    if maximum is not None:
        if schema.get("exclusiveMaximum") and value >= maximum:
            causes.append(errors.invalid(path, value, f"{shown} in body should be less than {maximum}"))
        elif value > maximum:
            causes.append(
                errors.invalid(path, value, f"{shown} in body should be less than or equal to {maximum}")
            )
    multiple = schema.get("multipleOf")
    if multiple and (value / multiple) % 1 != 0:
        causes.append(errors.invalid(path, value, f"{shown} in body should be a multiple of {multiple}"))
    if schema.get("format") == "int32" and not -(2**31) <= value < 2**31:
        causes.append(errors.invalid(path, value, f"{shown} in body must be of type int32"))


def _validate_array(value: list[Any], schema: Json, path: str, shown: str, causes: list[Cause]) -> None:
    max_items = schema.get("maxItems")
    if max_items is not None and len(value) > max_items:
        causes.append(errors.too_many(path, len(value), max_items))
    min_items = schema.get("minItems")
    if min_items is not None and len(value) < min_items:
        causes.append(
            errors.invalid(path, len(value), f"{shown} in body should have at least {min_items} items")
        )
    if schema.get("uniqueItems"):
        seen: list[Any] = []
        for item in value:
            if item in seen:
                causes.append(
                    errors.Cause(
                        reason="FieldValueDuplicate",
                        field=path,
                        message=f"Duplicate value: {errors.render_value(item)}",
                    )
                )
                break
            seen.append(item)
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _validate(item, items, f"{path}[{i}]", causes, False)


def _validate_object(
    value: Json, schema: Json, path: str, shown: str, causes: list[Cause], root: bool
) -> None:
    props: Json = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if name not in value or (value[name] is None and not (props.get(name) or {}).get("nullable")):
            causes.append(errors.required(_join(path, name)))
    max_props = schema.get("maxProperties")
    if max_props is not None and len(value) > max_props:
        causes.append(errors.too_many(path, len(value), max_props))
    min_props = schema.get("minProperties")
    if min_props is not None and len(value) < min_props:
        causes.append(
            errors.invalid(path, len(value), f"{shown} in body should have at least {min_props} properties")
        )
    additional = schema.get("additionalProperties")
    embedded = root or bool(schema.get("x-kubernetes-embedded-resource"))
    for key, child in value.items():
        if embedded and key in _ROOT_FIELDS:
            continue
        if key in props:
            if key in (schema.get("required") or []) and child is None:
                continue
            _validate(child, props[key], _join(path, key), causes, False)
        elif isinstance(additional, dict):
            _validate(child, additional, f"{path}[{key}]" if path else key, causes, False)
