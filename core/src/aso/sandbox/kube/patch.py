"""The three patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge.

JSON patch is the ``jsonpatch`` library's (well kept, complete, RFC 6902 tested); merge patch is
:func:`aso.common.merge_patch` (shared with the ARM emulator); strategic merge patch is
hand-written here because no Python library implements it.

Strategic merge patch is the API server's own format for built-in kinds. Its list semantics come
from Go struct tags; the built-in kinds served here only have two such lists
(``metadata.finalizers`` merged as a set, ``metadata.ownerReferences`` keyed by ``uid``), given
per kind as ``merge_keys``. Directives (``$patch``, ``$retainKeys``, ``$setElementOrder/…``,
``$deleteFromPrimitiveList/…``) are honoured the way kubectl's apply emits them.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

Json = dict[str, Any]


class PatchError(Exception):
    """A patch that cannot be applied (bad pointer, failed ``test`` op, malformed document)."""


def json_patch(doc: Any, operations: Any) -> Any:
    """RFC 6902 on a deep copy of ``doc``; raises :class:`PatchError` on any failing op."""
    if not isinstance(operations, list):
        raise PatchError("json patch must be a list of operations")
    try:
        return jsonpatch.JsonPatch(operations).apply(doc, in_place=False)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise PatchError(f"test operation does not apply: {exc}") from exc
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise PatchError(f"the JSON patch does not apply: {exc}") from exc
    except (TypeError, KeyError, ValueError) as exc:  # malformed operations
        raise PatchError(f"invalid JSON patch: {exc}") from exc


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
