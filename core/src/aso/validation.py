"""Type checks of a plugin's declarations at load, so a wrong type fails at start-up, by name.

Dataclass annotations are read with :func:`typing.get_type_hints`; each field's value is checked
against its annotation (scalars, ``X | None``, ``tuple[X, ...]``, ``Mapping[K, V]``, nested
dataclasses, enums, callables). ``versions=[...]`` where a tuple is declared is reported as
``versions: expected a tuple (...), got list``: a list is unhashable and would fail much later.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import types
import typing
from typing import Any

__all__ = ["field_problems"]


def _describe(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _value_problems(value: Any, annotation: Any, where: str, namespace: dict[str, Any]) -> list[str]:
    if annotation is Any or annotation is object:
        return []
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        attempts = [_value_problems(value, member, where, namespace) for member in args]
        if any(not found for found in attempts):
            return []
        if value is not None and type(None) in args and len(args) == 2:
            return next(found for found, member in zip(attempts, args, strict=True) if member is not None)
        return [f"{where}: expected {' or '.join(_describe(a) for a in args)}, got {type(value).__name__}"]
    if annotation is type(None):
        return [] if value is None else [f"{where}: expected None, got {type(value).__name__}"]
    if origin is typing.Literal:
        return [] if value in args else [f"{where}: expected one of {list(args)}, got {value!r}"]
    if origin is tuple:
        if not isinstance(value, tuple):
            return [f"{where}: expected a tuple (...), got {type(value).__name__}"]
        if len(args) == 2 and args[1] is Ellipsis:
            return [
                p
                for i, item in enumerate(value)
                for p in _value_problems(item, args[0], f"{where}[{i}]", namespace)
            ]
        if args and len(args) != len(value):
            return [f"{where}: expected a tuple of {len(args)} items, got {len(value)}"]
        return [
            p
            for i, (item, a) in enumerate(zip(value, args, strict=True))
            for p in _value_problems(item, a, f"{where}[{i}]", namespace)
        ]
    if origin in (collections.abc.Mapping, dict):
        if not isinstance(value, collections.abc.Mapping):
            return [f"{where}: expected a mapping, got {type(value).__name__}"]
        found: list[str] = []
        for key, item in value.items():
            if args:
                found += _value_problems(key, args[0], f"{where} key {key!r}", namespace)
                found += _value_problems(item, args[1], f"{where}[{key!r}]", namespace)
        return found
    if origin is collections.abc.Callable or annotation is collections.abc.Callable:
        return [] if callable(value) else [f"{where}: expected a callable, got {type(value).__name__}"]
    if origin is not None:
        return []  # other generics: not checked
    if isinstance(annotation, type):
        if annotation is float and isinstance(value, int) and not isinstance(value, bool):
            return []
        if annotation is int and isinstance(value, bool):
            return [f"{where}: expected int, got bool"]
        if not isinstance(value, annotation):
            return [f"{where}: expected {annotation.__name__}, got {type(value).__name__}"]
        if dataclasses.is_dataclass(annotation) and not issubclass(annotation, enum.Enum):
            return field_problems(value, prefix=f"{where}.", namespace=namespace)
    return []


def field_problems(instance: Any, *, prefix: str = "", namespace: dict[str, Any] | None = None) -> list[str]:
    """Every field of a dataclass instance whose value does not match its annotation.

    ``namespace`` resolves names the annotations use only under ``TYPE_CHECKING``.
    """
    cls = type(instance)
    namespace = dict(namespace or {})
    try:
        hints = typing.get_type_hints(cls, localns=namespace)
    except NameError:
        hints = {}
        for klass in reversed(cls.__mro__):
            for name, annotation in getattr(klass, "__annotations__", {}).items():
                try:
                    hints[name] = typing.get_type_hints(
                        type(
                            "_One",
                            (),
                            {"__annotations__": {name: annotation}, "__module__": klass.__module__},
                        ),
                        localns=namespace,
                    )[name]
                except NameError:
                    hints[name] = Any  # a name only known to type checkers: not checked here
    found: list[str] = []
    for f in dataclasses.fields(instance):
        found += _value_problems(
            getattr(instance, f.name), hints.get(f.name, Any), f"{prefix}{f.name}", namespace
        )
    return found
