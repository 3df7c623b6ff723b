"""The three patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge.

Strategic merge patch is the API server's own format for built-in kinds. Its list semantics come
from Go struct tags; the built-in kinds served here only have two such lists
(``metadata.finalizers`` merged as a set, ``metadata.ownerReferences`` keyed by ``uid``), given
per kind as ``merge_keys``. Directives (``$patch``, ``$retainKeys``, ``$setElementOrder/…``,
``$deleteFromPrimitiveList/…``) are honoured the way kubectl's apply emits them.
"""

from __future__ import annotations

import copy
from typing import Any

Json = dict[str, Any]


class PatchError(Exception):
    """A patch that cannot be applied (bad pointer, failed ``test`` op, malformed document)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _split(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f'JSON pointer "{pointer}" must start with "/"')
    return [_unescape(t) for t in pointer[1:].split("/")]


def _index(container: list[Any], token: str, *, for_insert: bool) -> int:
    if token == "-" and for_insert:
        return len(container)
    if not token.isdigit():
        raise PatchError(f'invalid array index "{token}"')
    index = int(token)
    limit = len(container) if for_insert else len(container) - 1
    if index > limit:
        raise PatchError(f"array index {index} out of bounds")
    return index


def _resolve(doc: Any, tokens: list[str], pointer: str) -> Any:
    node = doc
    for token in tokens:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f'path "{pointer}" not found')
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, for_insert=False)]
        else:
            raise PatchError(f'path "{pointer}" not found')
    return node


def _add(doc: Any, pointer: str, value: Any) -> Any:
    tokens = _split(pointer)
    if not tokens:
        return value
    parent = _resolve(doc, tokens[:-1], pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, for_insert=True), value)
    else:
        raise PatchError(f'path "{pointer}" not found')
    return doc


def _remove(doc: Any, pointer: str) -> tuple[Any, Any]:
    tokens = _split(pointer)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _resolve(doc, tokens[:-1], pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"Unable to remove nonexistent key: {last}: missing value")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, last, for_insert=False))
    raise PatchError(f'path "{pointer}" not found')


def _replace(doc: Any, pointer: str, value: Any) -> Any:
    tokens = _split(pointer)
    if not tokens:
        return value
    parent = _resolve(doc, tokens[:-1], pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"replace operation does not apply: doc is missing key: {pointer}")
        parent[last] = value
    elif isinstance(parent, list):
        parent[_index(parent, last, for_insert=False)] = value
    else:
        raise PatchError(f'path "{pointer}" not found')
    return doc


def json_patch(doc: Any, operations: Any) -> Any:
    """RFC 6902 on a deep copy of ``doc``; raises :class:`PatchError` on any failing op."""
    if not isinstance(operations, list):
        raise PatchError("json patch must be a list of operations")
    result = copy.deepcopy(doc)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid operation {op!r}")
        kind, path = op["op"], op["path"]
        if kind == "add":
            result = _add(result, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            result, _ = _remove(result, path)
        elif kind == "replace":
            result = _replace(result, path, copy.deepcopy(op.get("value")))
        elif kind == "move":
            result, moved = _remove(result, op["from"])
            result = _add(result, path, moved)
        elif kind == "copy":
            result = _add(result, path, copy.deepcopy(_resolve(result, _split(op["from"]), op["from"])))
        elif kind == "test":
            try:
                actual = _resolve(result, _split(path), path)
            except PatchError:
                actual = None
            if actual != op.get("value"):
                raise PatchError(
                    f"testing value {path} failed: test operation does not apply: "
                    f"is {actual!r}, expected {op.get('value')!r}"
                )
        else:
            raise PatchError(f'unexpected operation "{kind}"')
    return result


def strategic_merge_patch(target: Any, patch: Any, merge_keys: dict[str, str], path: str = "") -> Any:
    """Strategic merge patch of ``patch`` onto ``target``; ``merge_keys`` maps dotted list paths to keys."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            current = result.get(field)
            if isinstance(current, list):
                result[field] = [item for item in current if item not in value]
            continue
        child_path = f"{path}.{key}" if path else key
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and child_path in merge_keys:
            result[key] = _merge_list(result.get(key), value, merge_keys[child_path], merge_keys, child_path)
            order = patch.get(f"$setElementOrder/{key}")
            if isinstance(order, list):
                result[key] = _apply_order(result[key], order, merge_keys[child_path])
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value, merge_keys, child_path)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(current: Any, patch: list[Any], key: str, merge_keys: dict[str, str], path: str) -> list[Any]:
    items = list(current) if isinstance(current, list) else []
    if not key:
        # A list of primitives with strategy "merge": union, keeping order.
        for value in patch:
            if isinstance(value, dict) and value.get("$patch") == "replace":
                return [v for v in patch if not isinstance(v, dict)]
            if value not in items:
                items.append(copy.deepcopy(value))
        return items
    for value in patch:
        if not isinstance(value, dict):
            continue
        if value.get("$patch") == "replace":
            return [copy.deepcopy(v) for v in patch if isinstance(v, dict) and v.get("$patch") != "replace"]
        position = next(
            (i for i, item in enumerate(items) if isinstance(item, dict) and item.get(key) == value.get(key)),
            None,
        )
        if value.get("$patch") == "delete":
            if position is not None:
                items.pop(position)
            continue
        if position is None:
            items.append({k: copy.deepcopy(v) for k, v in value.items() if k != "$patch"})
        else:
            items[position] = strategic_merge_patch(items[position], value, merge_keys, path)
    return items


def _apply_order(items: list[Any], order: list[Any], key: str) -> list[Any]:
    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    ranked = {value: i for i, value in enumerate(wanted)}
    return sorted(items, key=lambda item: ranked.get(ident(item), len(ranked)))
