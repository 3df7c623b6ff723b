"""Field paths and field sets of objects, as server-side apply counts them (structured-merge-diff).

A path is a tuple of ``FieldsV1`` elements: ``f:<field>``, ``k:<json keys>`` for an item of a
``x-kubernetes-list-type: map`` list (keyed by ``x-kubernetes-list-map-keys``), ``v:<json value>``
for an item of a ``set`` list. Lists no schema types are atomic (one path for the whole list), as
CRD lists are by default; map entries (``additionalProperties``, preserved unknown fields) are
paths one by one; a struct field is a path only as a leaf or when empty. ``metadata`` is typed as
Kubernetes types ObjectMeta whatever a CRD's schema says. :mod:`.apply` builds ownership on this.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

Json = dict[str, Any]
Path = tuple[str, ...]
FieldSet = set[Path]

#: No value at a path (distinct from a JSON null).
MISSING = object()

_MAP: Json = {"type": "object", "additionalProperties": {"type": "string"}}
#: How Kubernetes types ObjectMeta for server-side apply, whatever a CRD's schema says.
META_SCHEMA: Json = {
    "type": "object",
    "properties": {
        "labels": _MAP,
        "annotations": _MAP,
        "finalizers": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "ownerReferences": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["uid"],
            "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    },
    "x-kubernetes-preserve-unknown-fields": True,
}

#: Paths no manager ever owns (exactly these: what is below ``metadata`` stays ownable).
_NEVER_OWNED: frozenset[Path] = frozenset(
    {
        ("f:apiVersion",),
        ("f:kind",),
        ("f:metadata",),
        *(
            ("f:metadata", f"f:{key}")
            for key in (
                "name",
                "namespace",
                "creationTimestamp",
                "selfLink",
                "uid",
                "clusterName",
                "generation",
                "managedFields",
                "resourceVersion",
            )
        ),
    }
)


# -- schema navigation ---------------------------------------------------------------------------


def root_schema(schema: Json | None) -> Json:
    """The object schema with ``metadata`` typed as Kubernetes types ObjectMeta."""
    properties = dict((schema or {}).get("properties") or {})
    properties["metadata"] = META_SCHEMA
    return {**(schema or {}), "type": "object", "properties": properties}


def schema_of(schema: Json | None, key: str) -> tuple[Json | None, bool]:
    """(schema of ``key`` under ``schema``, whether ``key`` is a declared struct field)."""
    if not schema:
        return None, False
    properties = schema.get("properties") or {}
    if key in properties:
        return properties[key], True
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return extra, False
    return None, False


def list_type(schema: Json | None) -> tuple[str, list[str]]:
    if not schema:
        return "atomic", []
    kind = schema.get("x-kubernetes-list-type", "atomic")
    keys = list(schema.get("x-kubernetes-list-map-keys") or [])
    if kind == "map" and not keys:
        kind = "atomic"
    return kind, keys


def dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def item_key(item: Any, keys: list[str]) -> str:
    fields = {k: item.get(k) for k in keys if isinstance(item, dict) and k in item}
    return "k:" + dump(fields)


# -- field sets ----------------------------------------------------------------------------------


def field_set(obj: Json, schema: Json | None, *, status: str = "any") -> FieldSet:
    """The fields ``obj`` sets. ``status``: "any", "without" (main resource) or "only" (subresource)."""
    found: FieldSet = set()
    walk_map(obj, root_schema(schema), (), found)
    return restrict(found, status)


def restrict(paths: FieldSet, status: str) -> FieldSet:
    kept = {p for p in paths if p not in _NEVER_OWNED and p[:2] != ("f:metadata", "f:managedFields")}
    if status == "without":
        return {p for p in kept if p[0] != "f:status"}
    if status == "only":
        return {p for p in kept if p[0] == "f:status"}
    return kept


def walk_map(value: Json, schema: Json | None, path: Path, found: FieldSet) -> None:
    for key, child in value.items():
        child_schema, declared = schema_of(schema, key)
        child_path = (*path, f"f:{key}")
        walk(child, child_schema, child_path, found)
        if child is None or (isinstance(child, dict) and not child) or not declared:
            found.add(child_path)


def walk(value: Any, schema: Json | None, path: Path, found: FieldSet) -> None:
    if isinstance(value, dict):
        walk_map(value, schema, path, found)
    elif isinstance(value, list):
        kind, keys = list_type(schema)
        if kind == "atomic":
            found.add(path)
            return
        items = (schema or {}).get("items")
        for item in value:
            if kind == "set":
                found.add((*path, "v:" + dump(item)))
            else:
                item_path = (*path, item_key(item, keys))
                found.add(item_path)
                if isinstance(item, dict):
                    walk_map(item, items, item_path, found)
    else:
        found.add(path)


def to_fields_v1(paths: Iterable[Path]) -> Json:
    """``FieldsV1``: nested objects, ``{}`` for a leaf member, ``"."`` for a member with members below."""
    root: Json = {}
    members: set[Path] = set(paths)
    for path in sorted(members):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    for path in members:
        node = root
        for element in path:
            node = node[element]
        if node:
            node["."] = {}
    return root


def from_fields_v1(fields: Any, prefix: Path = ()) -> FieldSet:
    found: FieldSet = set()
    if not isinstance(fields, dict):
        return found
    for key, child in fields.items():
        if key == ".":
            found.add(prefix)
        elif isinstance(child, dict) and child:
            found |= from_fields_v1(child, (*prefix, key))
        else:
            found.add((*prefix, key))
    return found


def path_string(path: Path) -> str:
    """A path as structured-merge-diff prints it: ``.spec.items[name="a"].size``, ``[=value]``."""
    text = ""
    for element in path:
        kind, rest = element[:2], element[2:]
        if kind == "f:":
            text += "." + rest
        elif kind == "k:":
            keys = json.loads(rest)
            text += "[" + ",".join(f"{k}={dump(v)}" for k, v in keys.items()) + "]"
        elif kind == "v:":
            text += "[=" + rest + "]"
        else:
            text += "[" + rest + "]"
    return text


# -- values at paths -----------------------------------------------------------------------------


def _step(value: Any, element: str) -> Any:
    kind, rest = element[:2], element[2:]
    if kind == "f:":
        return value.get(rest, MISSING) if isinstance(value, dict) else MISSING
    if not isinstance(value, list):
        return MISSING
    if kind == "k:":
        wanted = json.loads(rest)
        for item in value:
            if isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items()):
                return item
        return MISSING
    if kind == "v:":
        wanted = json.loads(rest)
        return wanted if wanted in value else MISSING
    return MISSING


def value_at(obj: Any, path: Path) -> Any:
    for element in path:
        obj = _step(obj, element)
        if obj is MISSING:
            return MISSING
    return obj


def remove_path(obj: Any, path: Path) -> None:
    parent = value_at(obj, path[:-1])
    element = path[-1]
    kind, rest = element[:2], element[2:]
    if kind == "f:" and isinstance(parent, dict):
        parent.pop(rest, None)
    elif kind == "k:" and isinstance(parent, list):
        wanted = json.loads(rest)
        parent[:] = [
            i for i in parent if not (isinstance(i, dict) and all(i.get(k) == v for k, v in wanted.items()))
        ]
    elif kind == "v:" and isinstance(parent, list):
        wanted = json.loads(rest)
        parent[:] = [i for i in parent if i != wanted]
    else:
        return
    # A map or list whose last member went is gone too (structured-merge-diff leaves it null, and
    # admission drops nulls), but not what holds it.
    if not parent and len(path) >= 2 and path[-2].startswith("f:"):
        holder = value_at(obj, path[:-2])
        if isinstance(holder, dict):
            holder.pop(path[-2][2:], None)


def is_item_key(path: Path) -> bool:
    """A key field of a map-list item: it goes with its item, never alone."""
    return len(path) >= 2 and path[-2].startswith("k:") and path[-1][2:] in json.loads(path[-2][2:])


def owned_below(paths: FieldSet, path: Path) -> bool:
    return any(p[: len(path)] == path for p in paths)


def _subtree(value: Any, schema: Json | None, path: Path, member: bool, found: FieldSet) -> None:
    """Every path of ``value`` at ``path`` (``member``: the path itself is one)."""
    walk(value, schema, path, found)
    if member or value is None or (isinstance(value, dict) and not value):
        found.add(path)


def diff(old: Any, new: Any, schema: Json | None, path: Path, touched: FieldSet, removed: FieldSet) -> None:
    """Paths ``new`` sets with another value than ``old`` (``touched``), and those it dropped.

    Equal subtrees are skipped whole (a C-level comparison), so a write costs what it changed.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in new.items():
            before = old.get(key, MISSING)
            if before is value or before == value:
                continue
            child_schema, declared = schema_of(schema, key)
            child_path = (*path, f"f:{key}")
            if before is MISSING:
                _subtree(value, child_schema, child_path, not declared, touched)
            else:
                if not declared or value is None or (isinstance(value, dict) and not value):
                    touched.add(child_path)
                diff(before, value, child_schema, child_path, touched, removed)
        if len(old) > len(new) or any(key not in new for key in old):
            for key, value in old.items():
                if key not in new:
                    child_schema, declared = schema_of(schema, key)
                    _subtree(value, child_schema, (*path, f"f:{key}"), not declared, removed)
        return
    if isinstance(old, list) and isinstance(new, list):
        kind, keys = list_type(schema)
        if kind == "set":
            touched.update((*path, "v:" + dump(i)) for i in new if i not in old)
            removed.update((*path, "v:" + dump(i)) for i in old if i not in new)
            return
        if kind == "map":
            items = (schema or {}).get("items")
            before = {item_key(i, keys): i for i in old}
            after = {item_key(i, keys): i for i in new}
            for key, item in after.items():
                if key not in before:
                    _subtree(item, items, (*path, key), True, touched)
                elif before[key] != item:
                    diff(before[key], item, items, (*path, key), touched, removed)
            for key, item in before.items():
                if key not in after:
                    _subtree(item, items, (*path, key), True, removed)
            return
    if old != new:
        if isinstance(new, dict | list) and not isinstance(old, dict | list):
            _subtree(new, schema, path, False, touched)
        elif isinstance(old, dict | list) and not isinstance(new, dict | list):
            _subtree(old, schema, path, False, removed)
        touched.add(path)


def owns(fields: Any, path: Path) -> bool:
    node = fields
    for element in path:
        if not isinstance(node, dict) or element not in node:
            return False
        node = node[element]
    return isinstance(node, dict) and (not node or "." in node)
