"""The emulator's resource store: every resource group and resource, keyed by lower-cased id.

In memory; with a state directory it is written to ``store.json`` (debounced, and at stop)
and read back at start, so a restarted emulator continues where it stopped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .ids import key, parse


@dataclass(kw_only=True)
class StoredResource:
    """One resource as the provider holds it.

    ``body`` is what GET returns; ``computed`` are the read-only values generated at creation
    (kept across updates); ``secrets`` hold generated keys and write-only inputs.
    """

    id: str
    type: str
    body: dict[str, Any]
    created_at: str
    computed: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    # Id of the operation currently running on this resource, if any.
    operation_id: str | None = None
    # The request body that started it (a PUT): repeating it is an idempotent retry, not a
    # conflicting write.
    operation_request: dict[str, Any] | None = None

    def provisioning_state(self) -> str | None:
        props = self.body.get("properties")
        if isinstance(props, dict):
            state = props.get("provisioningState")
            return state if isinstance(state, str) else None
        return None

    def set_provisioning_state(self, state: str) -> None:
        props = self.body.get("properties")
        if isinstance(props, dict) and "provisioningState" in props:
            props["provisioningState"] = state


class Store:
    """Resources by lower-cased id. Children are found by id prefix (ids nest)."""

    def __init__(self) -> None:
        self._items: dict[str, StoredResource] = {}
        self.dirty = False

    def get(self, resource_id: str) -> StoredResource | None:
        return self._items.get(key(resource_id))

    def exists(self, resource_id: str) -> bool:
        return key(resource_id) in self._items

    def put(self, res: StoredResource) -> None:
        self._items[key(res.id)] = res
        self.dirty = True

    def touch(self) -> None:
        self.dirty = True

    def delete_tree(self, resource_id: str) -> list[StoredResource]:
        """Delete a resource and everything below it (children, resources of a group)."""
        k = key(resource_id)
        prefix = k + "/"
        doomed = [kk for kk in self._items if kk == k or kk.startswith(prefix)]
        out = [self._items.pop(kk) for kk in doomed]
        if out:
            self.dirty = True
        return out

    def children(self, parent_id: str, full_type: str | None = None) -> list[StoredResource]:
        """Resources whose parent (or scope, for top-level types) is ``parent_id``."""
        pk = key(parent_id)
        t = full_type.lower() if full_type else None
        out = []
        for res in self._items.values():
            if t is not None and res.type.lower() != t:
                continue
            p = parse(res.id)
            if p is None or not p.is_resource or key(p.parent_id) != pk:
                continue
            out.append(res)
        return out

    def by_type(self, full_type: str, under: str | None = None) -> list[StoredResource]:
        t = full_type.lower()
        prefix = key(under) + "/" if under else ""
        return [r for kk, r in self._items.items() if r.type.lower() == t and kk.startswith(prefix)]

    def all(self) -> Iterator[StoredResource]:
        return iter(list(self._items.values()))

    def clear(self) -> None:
        self._items.clear()
        self.dirty = True

    def __len__(self) -> int:
        return len(self._items)

    # Persistence -------------------------------------------------------------------------

    def dump(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self._items.values()]

    def load(self, items: list[dict[str, Any]]) -> None:
        self._items = {key(d["id"]): StoredResource(**d) for d in items}


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
