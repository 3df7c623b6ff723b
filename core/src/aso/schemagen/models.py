"""Reading Azure SDK model classes into a neutral field description.

Two model styles exist in the Azure SDK for Python and both are read here:

* msrest style (autorest): ``_attribute_map`` maps attribute names to the ARM key
  (dotted ``properties.x`` keys mean the SDK flattens ``properties``, mirroring
  ``x-ms-client-flatten``) and a msrest type string; ``_validation`` carries
  ``readonly``, ``required``, ``constant``, ``pattern`` and length/size limits.
  Enum types only appear in the ``__init__`` annotations.
* ``_RestField`` style (typespec): class attributes created by ``rest_field(name=...,
  visibility=[...])``, typed by the class annotations.

The rest of the generator only sees :class:`Field` and :data:`TypeRef`, so it never
cares which style a class uses. Classes are introspected, never instantiated.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Resolver = Callable[[str], Any]
"""Looks a model or enum class up by its unqualified name; returns None when unknown."""


@dataclass(frozen=True)
class Scalar:
    """A JSON scalar: ``type`` is an openAPI type name; ``enum`` lists allowed values."""

    type: str
    format: str | None = None
    enum: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ArrayOf:
    items: TypeRef


@dataclass(frozen=True)
class MapOf:
    values: TypeRef


@dataclass(frozen=True)
class ModelOf:
    cls: type


@dataclass(frozen=True)
class Unknown:
    """Free-form JSON (msrest ``object``, typing ``Any``): kept as preserve-unknown-fields."""


TypeRef = Scalar | ArrayOf | MapOf | ModelOf | Unknown


@dataclass(frozen=True)
class Field:
    """One ARM property of a model.

    ``arm_path`` is the property's position in the ARM JSON relative to the owning
    object: ``("location",)``, or ``("properties", "accessTier")`` where the SDK
    flattens ``properties``.
    """

    attr: str
    arm_path: tuple[str, ...]
    type: TypeRef
    read: bool = True
    write: bool = True
    required: bool = False
    constraints: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None


# msrest primitive type names -> openAPI (type, format)
_MSREST_PRIMITIVES: dict[str, tuple[str, str | None]] = {
    "str": ("string", None),
    "int": ("integer", None),
    "long": ("integer", None),
    "float": ("number", None),
    "decimal": ("number", None),
    "bool": ("boolean", None),
    "iso-8601": ("string", "date-time"),
    "rfc-1123": ("string", None),
    "date": ("string", "date"),
    "time": ("string", None),
    "duration": ("string", None),
    "unix-time": ("integer", None),
    "bytearray": ("string", "byte"),
    "base64": ("string", "byte"),
}

# msrest _validation keys -> openAPI keywords (readonly/required/constant handled separately)
_MSREST_CONSTRAINTS = {
    "pattern": "pattern",
    "max_length": "maxLength",
    "min_length": "minLength",
    "maximum": "maximum",
    "minimum": "minimum",
    "maximum_ex": "exclusiveMaximum",
    "minimum_ex": "exclusiveMinimum",
    "max_items": "maxItems",
    "min_items": "minItems",
    "unique": "uniqueItems",
    "multiple": "multipleOf",
}


def is_msrest_model(cls: type) -> bool:
    return isinstance(getattr(cls, "_attribute_map", None), dict)


def _is_rest_field(value: object) -> bool:
    return hasattr(value, "_rest_name_input") and hasattr(value, "_visibility")


def is_restfield_model(cls: type) -> bool:
    return any(_is_rest_field(v) for klass in cls.__mro__ for v in vars(klass).values())


def is_model(cls: object) -> bool:
    return inspect.isclass(cls) and (is_msrest_model(cls) or is_restfield_model(cls))


def module_resolver(*namespaces: object) -> Resolver:
    """A resolver that looks names up in modules (or any objects with attributes), in order."""

    def resolve(name: str) -> Any:
        for namespace in namespaces:
            found = getattr(namespace, name, None)
            if found is not None:
                return found
        return None

    return resolve


def default_resolver(cls: type) -> Resolver:
    """Resolve names the way the SDK does: in the class's module and its ``models`` package."""
    module = sys.modules.get(cls.__module__)
    package = sys.modules.get(cls.__module__.rsplit(".", 1)[0]) if "." in cls.__module__ else None
    return module_resolver(*(m for m in (module, package) if m is not None))


def short_description(text: str | None) -> str | None:
    """First sentence of a docstring fragment, whitespace collapsed, so CRDs stay small."""
    if not text:
        return None
    flat = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", flat)
    sentence = match.group(1) if match else flat
    sentence = sentence.strip()
    return None if sentence in ("", "Required.") else sentence


def ivar_descriptions(cls: type) -> dict[str, str]:
    """``:ivar name: text`` entries of the class docstrings (both SDK styles write them)."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        doc = klass.__dict__.get("__doc__") or ""
        for match in re.finditer(r":ivar (\w+):(.*?)(?=\n\s*:\w|\Z)", doc, re.DOTALL):
            description = short_description(match.group(2))
            if description:
                found[match.group(1)] = description
    return found


def split_msrest_key(key: str) -> tuple[str, ...]:
    """Split an ``_attribute_map`` key on unescaped dots (``odata\\.type`` is one ARM key)."""
    parts = re.split(r"(?<!\\)\.", key)
    return tuple(part.replace("\\.", ".") for part in parts)


# ---------------------------------------------------------------------------
# msrest style


def _msrest_type(type_string: str, resolve: Resolver) -> TypeRef:
    if type_string.startswith("[") and type_string.endswith("]"):
        return ArrayOf(_msrest_type(type_string[1:-1], resolve))
    if type_string.startswith("{") and type_string.endswith("}"):
        return MapOf(_msrest_type(type_string[1:-1], resolve))
    if type_string in _MSREST_PRIMITIVES:
        json_type, fmt = _MSREST_PRIMITIVES[type_string]
        return Scalar(json_type, fmt)
    if type_string == "object":
        return Unknown()
    found = resolve(type_string)
    if inspect.isclass(found) and issubclass(found, enum.Enum):
        return Scalar("string", enum=_enum_values(found))
    if is_model(found):
        return ModelOf(found)
    return Unknown()


def _enum_values(enum_cls: type[enum.Enum]) -> tuple[Any, ...]:
    # dict.fromkeys: the SDK's case-insensitive enums may alias a value; keep first-seen order.
    return tuple(dict.fromkeys(member.value for member in enum_cls))


def _init_annotation_enum(cls: type, attr: str, resolve: Resolver) -> type[enum.Enum] | None:
    """msrest hides enums in ``__init__`` hints such as ``Union[str, "_models.SkuName"]``."""
    init = cls.__dict__.get("__init__") or getattr(cls, "__init__", None)
    annotations = getattr(init, "__annotations__", {}) or {}
    annotation = annotations.get(attr)
    if annotation is None:
        return None
    for name in re.findall(r"[A-Za-z_]\w*", str(annotation)):
        found = resolve(name)
        if inspect.isclass(found) and issubclass(found, enum.Enum):
            return found
    return None


def _with_enum(type_ref: TypeRef, values: tuple[Any, ...]) -> TypeRef:
    """Put enum values on the innermost string scalar (``[str]``/``{str}`` of an enum too)."""
    if isinstance(type_ref, Scalar) and type_ref.type == "string" and not type_ref.enum:
        return Scalar("string", type_ref.format, values)
    if isinstance(type_ref, ArrayOf):
        return ArrayOf(_with_enum(type_ref.items, values))
    if isinstance(type_ref, MapOf):
        return MapOf(_with_enum(type_ref.values, values))
    return type_ref


def msrest_fields(cls: type, resolve: Resolver) -> list[Field]:
    attribute_map: dict[str, dict[str, Any]] = cls._attribute_map  # type: ignore[attr-defined]
    validation: dict[str, dict[str, Any]] = getattr(cls, "_validation", {}) or {}
    descriptions = ivar_descriptions(cls)
    fields: list[Field] = []
    for attr, info in attribute_map.items():
        if info["key"] == "":
            # msrest's catch-all for undeclared JSON keys (additionalProperties), not a property.
            continue
        rules = validation.get(attr, {})
        type_ref = _msrest_type(info["type"], resolve)
        enum_cls = _init_annotation_enum(cls, attr, resolve)
        if enum_cls is not None:
            type_ref = _with_enum(type_ref, _enum_values(enum_cls))
        if rules.get("constant"):
            # A constant is sent by the SDK itself; the only value a user may give is that one.
            type_ref = Scalar("string", enum=(getattr(cls, attr),))
        constraints = {keyword: rules[key] for key, keyword in _MSREST_CONSTRAINTS.items() if key in rules}
        fields.append(
            Field(
                attr=attr,
                arm_path=split_msrest_key(info["key"]),
                type=type_ref,
                read=True,
                write=not rules.get("readonly", False),
                required=bool(rules.get("required")) and not rules.get("constant"),
                constraints=constraints,
                description=descriptions.get(attr),
            )
        )
    return fields


# ---------------------------------------------------------------------------
# _RestField style


def _class_annotations(cls: type) -> dict[str, Any]:
    """Evaluated annotations of every attribute, falling back to raw ones that do not evaluate."""
    try:
        return typing.get_type_hints(cls)
    except Exception:
        pass  # an unresolvable hint elsewhere must not lose the rest: evaluate one by one
    result: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        module = sys.modules.get(klass.__module__)
        namespace = dict(vars(module)) if module else {}
        for name, annotation in inspect.get_annotations(klass).items():
            if isinstance(annotation, str):
                try:
                    annotation = eval(annotation, namespace)  # SDK source text; dev-only tool
                except Exception:
                    annotation = Any
            result[name] = annotation
    return result


def _typing_type(annotation: Any, resolve: Resolver) -> tuple[TypeRef, bool]:
    """Map a typing annotation to a TypeRef; the bool says whether None was allowed."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = resolve(annotation.__forward_arg__.rsplit(".", 1)[-1]) or Any
    if isinstance(annotation, str):
        annotation = resolve(annotation.rsplit(".", 1)[-1]) or Any
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        optional = type(None) in args
        members = [a for a in args if a is not type(None)]
        enums = [_typing_type(a, resolve)[0] for a in members]
        enum_values = [v for t in enums if isinstance(t, Scalar) for v in t.enum]
        if enum_values:
            # Union[str, SomeEnum]: the SDK accepts any string but the API documents these values.
            return Scalar("string", enum=tuple(dict.fromkeys(enum_values))), optional
        if len(members) == 1:
            return _typing_type(members[0], resolve)[0], optional
        return Unknown(), optional
    if origin is typing.Literal:
        return Scalar("string" if all(isinstance(a, str) for a in args) else "integer", enum=args), False
    if origin in (list, tuple, set, frozenset) or _is_abc(origin, "Sequence"):
        return ArrayOf(_typing_type(args[0], resolve)[0] if args else Unknown()), False
    if origin is dict or _is_abc(origin, "Mapping"):
        return MapOf(_typing_type(args[1], resolve)[0] if len(args) == 2 else Unknown()), False
    simple: dict[Any, Scalar] = {
        str: Scalar("string"),
        bool: Scalar("boolean"),
        int: Scalar("integer"),
        float: Scalar("number"),
        decimal.Decimal: Scalar("number"),
        bytes: Scalar("string", "byte"),
        datetime.datetime: Scalar("string", "date-time"),
        datetime.date: Scalar("string", "date"),
        datetime.time: Scalar("string"),
        datetime.timedelta: Scalar("string"),
    }
    if annotation in simple:
        return simple[annotation], False
    if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
        return Scalar("string", enum=_enum_values(annotation)), False
    if is_model(annotation):
        return ModelOf(annotation), False
    return Unknown(), False


def _is_abc(origin: Any, name: str) -> bool:
    import collections.abc

    target = getattr(collections.abc, name)
    return inspect.isclass(origin) and issubclass(origin, target)


def _flattened_items(cls: type) -> list[str]:
    """Typespec SDKs mark a flattened ``properties`` with a private ``__flattened_items`` list."""
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if name.endswith("__flattened_items") and isinstance(value, list | tuple):
                return list(value)
    return []


def restfield_fields(cls: type, resolve: Resolver) -> list[Field]:
    rest_fields: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if not name.startswith("_") and _is_rest_field(value):
                rest_fields[name] = value
    annotations = _class_annotations(cls)
    descriptions = ivar_descriptions(cls)
    flattened = _flattened_items(cls)
    fields: list[Field] = []
    for attr, rest_field in rest_fields.items():
        visibility = rest_field._visibility
        read = visibility is None or "read" in visibility
        write = visibility is None or "create" in visibility or "update" in visibility
        type_ref, optional = _typing_type(annotations.get(attr, Any), resolve)
        arm_name = rest_field._rest_name_input or attr
        if flattened and isinstance(type_ref, ModelOf) and arm_name == "properties":
            # Lift the inner model's fields, as msrest does with dotted keys.
            for inner in restfield_fields(type_ref.cls, resolve):
                fields.append(
                    Field(
                        attr=inner.attr,
                        arm_path=(arm_name, *inner.arm_path),
                        type=inner.type,
                        read=inner.read and read,
                        write=inner.write and write,
                        required=inner.required,
                        constraints=inner.constraints,
                        description=inner.description,
                    )
                )
            continue
        fields.append(
            Field(
                attr=attr,
                arm_path=(arm_name,),
                type=type_ref,
                read=read,
                write=write,
                required=not optional and write,
                description=descriptions.get(attr),
            )
        )
    return fields


@dataclass(frozen=True)
class Subtypes:
    """A polymorphic (discriminated) model: which ARM key tells the subtypes apart."""

    discriminator: str
    """ARM key of the discriminator, e.g. ``type``."""
    options: tuple[tuple[str, type], ...]
    """(discriminator value, subclass), in value order."""


def _msrest_subtype_names(cls: type) -> dict[str, dict[str, str]]:
    # Only a class's own map counts: subclasses inherit the base's attribute (as msrest says).
    own = cls.__dict__.get("_subtype_map")
    return own if isinstance(own, dict) else {}


def model_subtypes(cls: type, resolve: Resolver) -> Subtypes | None:
    """The subtypes of a msrest polymorphic base class (nested levels flattened), else None."""
    own = _msrest_subtype_names(cls)
    if not own or not is_msrest_model(cls):
        return None
    attr, names = next(iter(own.items()))
    key = cls._attribute_map.get(attr, {}).get("key", attr)  # type: ignore[attr-defined]
    found: dict[str, type] = {}
    pending = list(names.items())
    while pending:
        value, class_name = pending.pop(0)
        subclass = resolve(class_name)
        if not is_model(subclass) or value in found:
            continue
        found[value] = subclass
        pending.extend(_msrest_subtype_names(subclass).get(attr, {}).items())
    if not found:
        return None
    return Subtypes(discriminator=split_msrest_key(key)[-1], options=tuple(sorted(found.items())))


def model_fields(cls: type, resolve: Resolver) -> list[Field]:
    """The ARM properties of a model class of either SDK style, in declaration order."""
    if is_msrest_model(cls):
        return msrest_fields(cls, resolve)
    if is_restfield_model(cls):
        return restfield_fields(cls, resolve)
    raise TypeError(f"{cls.__module__}.{cls.__qualname__} is not an Azure SDK model class")
