"""Server-side apply and ``metadata.managedFields``: who owns which field, after structured-merge-diff.

What is implemented, after Kubernetes' "Server-Side Apply" documentation and the behaviour of
sigs.k8s.io/structured-merge-diff (our own code, written from their documented semantics):

- Field sets (:mod:`.fieldpaths`): every field an object sets, as ``FieldsV1`` paths; lists merge
  and are owned by ``x-kubernetes-list-type`` (``map`` item by item on
  ``x-kubernetes-list-map-keys``, ``set`` by value, otherwise atomic, as CRD lists are by default);
  map entries are owned one by one. ``metadata`` is typed as Kubernetes types it whatever the
  schema says: ``labels`` and ``annotations`` are maps, ``finalizers`` a set, ``ownerReferences``
  a map list keyed by ``uid``. ``apiVersion``, ``kind`` and the server's own metadata (name,
  namespace, uid, resourceVersion, generation, creationTimestamp, managedFields) are never owned.
  Under a status subresource, the main resource's managers never own ``status`` and the status
  managers own only ``status``.
- Apply (:func:`apply`): the applied configuration is merged into the live object (maps and
  structs field by field, map lists item by item, sets by value, atomic lists replaced). A field
  another manager owns and the configuration would change is a conflict: 409 ``Conflict`` with
  the API server's message (``Apply failed with 1 conflict: conflict with "kubectl" using v1:
  .spec.size``) and one ``FieldManagerConflict`` cause per field. ``force`` takes such fields
  from their owners instead. Fields the manager applied before and no longer applies are removed
  from the object unless another manager still owns them (or something below them); a map or list
  that loses its last member goes too. Applying to an object without ``managedFields`` first
  gives what it holds to ``before-first-apply`` (an ``Update`` manager), as the API server does
  for objects from before server-side apply. A no-op apply changes nothing.
- Every other write (create, update, patch, status) is an ``Update`` by its manager
  (``fieldManager``, else the User-Agent up to its first ``/``): it gains the fields it added or
  changed, every other manager loses them, and fields it removed are no-one's. A manager whose set
  becomes empty is dropped. A client that writes ``managedFields`` itself replaces them (kubectl
  does, to migrate client-side apply to server-side apply) before its changes are counted; a list
  of one empty entry (``[{}]``) strips them, an empty list (or none) keeps them.

A manager is its name, operation and subresource, plus the apiVersion for ``Update``s (one entry
per version written), as in the API server.

Knowingly not implemented: ``x-kubernetes-map-type: atomic`` (maps and structs are always
granular), the cap of ten ``Update`` managers (no ``ancient-changes`` entry), field sets
converted between versions (ownership is kept per path as written, exact while versions share
their field names, as ASO's do), ``managedFields`` validation beyond their shape, and the
``kubectl.kubernetes.io/last-applied-configuration`` bookkeeping the API server does for
client-side apply (kubectl migrates it itself).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from . import fieldpaths
from .errors import ApiError
from .fieldpaths import (
    FieldSet,
    Json,
    Path,
    field_set,
    from_fields_v1,
    path_string,
    restrict,
    root_schema,
    to_fields_v1,
    value_at,
)

# -- merging -------------------------------------------------------------------------------------


def merge(live: Any, config: Any, schema: Json | None) -> Any:
    """The applied configuration merged into the live object (a new value; neither is changed)."""
    if isinstance(config, dict) and isinstance(live, dict):
        result = dict(live)
        for key, value in config.items():
            child_schema, _ = fieldpaths.schema_of(schema, key)
            if value is None:
                result.pop(key, None)
            elif key in live:
                result[key] = merge(live[key], value, child_schema)
            else:
                result[key] = copy.deepcopy(value)
        return result
    if isinstance(config, list) and isinstance(live, list):
        kind, keys = fieldpaths.list_type(schema)
        if kind == "set":
            return list(live) + [copy.deepcopy(i) for i in config if i not in live]
        if kind == "map":
            items = (schema or {}).get("items")
            by_key = {fieldpaths.item_key(i, keys): i for i in config}
            merged = []
            for item in live:
                key = fieldpaths.item_key(item, keys)
                merged.append(merge(item, by_key.pop(key), items) if key in by_key else item)
            return merged + [copy.deepcopy(i) for i in by_key.values()]
    return copy.deepcopy(config)


# -- managers ------------------------------------------------------------------------------------


def _entry_key(entry: Json) -> tuple[str, str, str, str]:
    """A manager's identity: name, operation, subresource and, for ``Update``, the apiVersion."""
    operation = entry.get("operation", "")
    version = entry.get("apiVersion", "") if operation == "Update" else ""
    return (entry.get("manager", ""), operation, version, entry.get("subresource", ""))


def _entries(managed: Any) -> list[tuple[Json, FieldSet]]:
    if not isinstance(managed, list):
        return []
    return [
        (entry, from_fields_v1(entry.get("fieldsV1")))
        for entry in managed
        if isinstance(entry, dict) and entry.get("manager") is not None
    ]


def _render(
    entries: list[tuple[Json, FieldSet]], changed: set[tuple[str, str, str, str]], stamp: str
) -> list[Json]:
    out = []
    for entry, paths in entries:
        if not paths:
            continue
        if _entry_key(entry) in changed:
            entry = {**entry, "time": stamp, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(paths)}
        out.append(entry)
    return out


def _without_managed(obj: Json) -> Json:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": meta}


def _new_entry(manager: str, operation: str, api_version: str, subresource: str | None) -> Json:
    entry: Json = {"manager": manager, "operation": operation, "apiVersion": api_version}
    if subresource:
        entry["subresource"] = subresource
    return entry


#: What :func:`requested_managed` takes for "the request left ``managedFields`` out".
MISSING = fieldpaths.MISSING


def requested_managed(requested: Any, stored: Any) -> list[Json]:
    """The ``managedFields`` a write starts from, given what the request carried.

    Left out, or an empty list: the stored ones (clients unaware of the field never strip it).
    A list of one empty entry (``[{}]``): none, so the writer then owns what it changed. Anything
    else: the client's own list (kubectl rewrites them to move from client-side apply).
    """
    if requested is fieldpaths.MISSING or requested == [] or not isinstance(requested, list):
        return list(stored) if isinstance(stored, list) else []
    if all(entry == {} for entry in requested):
        return []
    return [entry for entry in requested if isinstance(entry, dict) and entry]


#: Who owns the fields of an object that had no managedFields when it was first applied to.
BEFORE_FIRST_APPLY = "before-first-apply"


def track_update(
    old: Json | None,
    new: Json,
    schema: Json | None,
    *,
    managed: list[Json],
    manager: str,
    api_version: str,
    subresource: str | None,
    status_split: bool,
    stamp: str,
) -> list[Json] | None:
    """``managedFields`` after an ``Update`` from ``old`` to ``new``; None when they do not change.

    ``managed``: the entries before this write (see :func:`requested_managed`). ``status_split``:
    the kind has a status subresource (main and status managers own disjoint halves of the object).
    """
    scope = ("only" if subresource == "status" else "without") if status_split else "any"
    touched: FieldSet = set()
    removed: FieldSet = set()
    fieldpaths.diff(old if old is not None else {}, new, root_schema(schema), (), touched, removed)
    touched, removed = restrict(touched, scope), restrict(removed, scope)
    if not touched and not removed:
        return None
    gone = touched | removed
    key = (manager, "Update", api_version, subresource or "")
    out: list[Json] = []
    mine: Json | None = None
    for entry in managed:
        if _entry_key(entry) == key:
            mine = entry
            out.append(entry)
            continue
        fields = entry.get("fieldsV1")
        if not any(fieldpaths.owns(fields, p) for p in gone):
            out.append(entry)  # untouched: kept as it is, time and all
            continue
        paths = from_fields_v1(fields) - gone
        if paths:
            out.append({**entry, "time": stamp, "fieldsV1": to_fields_v1(paths)})
    own = (from_fields_v1(mine.get("fieldsV1")) if mine else set()) - removed | touched
    entry = {
        **(mine or _new_entry(manager, "Update", api_version, subresource)),
        "apiVersion": api_version,
        "time": stamp,
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(own),
    }
    if mine is None:
        if own:
            out.append(entry)
    else:
        index = next(i for i, e in enumerate(out) if e is mine)
        if own:
            out[index] = entry
        else:
            del out[index]
    return out


def _manager_label(entry: Json) -> str:
    label = json.dumps(entry.get("manager", ""))
    if entry.get("subresource"):
        label += f" with subresource {json.dumps(entry['subresource'])}"
    if entry.get("operation") == "Update":
        label += f" using {entry.get('apiVersion', '')}"
    return label


def conflict_error(conflicts: list[tuple[Json, Path]]) -> ApiError:
    """409 as the API server words it: one cause per field, the message grouped by manager."""
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {_manager_label(entry)}: {path_string(path)}"
    else:
        grouped: dict[str, list[Path]] = {}
        for entry, path in conflicts:
            grouped.setdefault(_manager_label(entry), []).append(path)
        lines = []
        for label in sorted(grouped):
            lines.append(f"conflicts with {label}:")
            lines += [f"- {path_string(p)}" for p in sorted(grouped[label])]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {_manager_label(entry)}",
            "field": path_string(path),
        }
        for entry, path in conflicts
    ]
    return ApiError(code=409, reason="Conflict", message=message, details={"causes": causes})


def apply(
    live: Json | None,
    config: Json,
    schema: Json | None,
    *,
    manager: str,
    api_version: str,
    subresource: str | None,
    status_split: bool,
    force: bool,
    stamp: str,
) -> Json:
    """The object after ``manager`` applies ``config`` to ``live`` (None: the object is created).

    Raises the 409 of :func:`conflict_error` unless ``force``. The result carries the new
    ``managedFields``; the caller admits it like any other write (defaults, validation).
    """
    scope = ("only" if subresource == "status" else "without") if status_split else "any"
    config = copy.deepcopy(config)
    config.get("metadata", {}).pop("managedFields", None)
    if status_split:
        if subresource == "status":
            config = {k: v for k, v in config.items() if k in ("apiVersion", "kind", "metadata", "status")}
            config["metadata"] = {
                k: v for k, v in config.get("metadata", {}).items() if k in ("name", "namespace")
            }
        else:
            config.pop("status", None)
    applied = field_set(config, schema, status=scope)
    base = live if live is not None else {}
    # A copy of its own: merge() shares untouched subtrees with the live object, which may be the
    # stored one, and what follows (removals here, defaults and pruning in admission) edits in place.
    merged = copy.deepcopy(merge(base, config, root_schema(schema)))
    entries = _entries(base.get("metadata", {}).get("managedFields"))
    changed: set[tuple[str, str, str, str]] = set()
    if live is not None and not entries:
        # An object nobody is recorded as managing (stored before managedFields, or stripped):
        # what it holds belongs to "before-first-apply", so changing it is a conflict as there.
        existing = field_set(live, schema, status=scope)
        if existing:
            entry = _new_entry(BEFORE_FIRST_APPLY, "Update", api_version, subresource)
            entries.append((entry, existing))
            changed.add(_entry_key(entry))
    key = (manager, "Apply", "", subresource or "")
    previous: FieldSet = set()
    has_entry = False
    for entry, paths in entries:
        if _entry_key(entry) == key:
            previous, has_entry = paths, True
    changing = {p for p in applied if value_at(base, p) != value_at(merged, p)}
    conflicts: list[tuple[Json, Path]] = []
    changed.add(key)
    for entry, paths in entries:
        if _entry_key(entry) == key:
            continue
        clashes = paths & changing
        if not clashes:
            continue
        if force:
            paths -= clashes
            changed.add(_entry_key(entry))
        else:
            conflicts += [(entry, p) for p in sorted(clashes)]
    if conflicts:
        raise conflict_error(conflicts)
    others: FieldSet = set()
    for entry, paths in entries:
        if _entry_key(entry) != key:
            others |= paths
    # Fields this manager stopped applying go unless someone else still owns them (or below them).
    dropped: list[Path] = []
    for path in sorted(previous - applied, key=len):
        if any(path[: len(d)] == d for d in dropped) or fieldpaths.is_item_key(path):
            continue
        if not fieldpaths.owned_below(others, path) and not fieldpaths.owned_below(applied, path):
            fieldpaths.remove_path(merged, path)
            dropped.append(path)
    unchanged = _without_managed(merged) == _without_managed(base)
    if unchanged and has_entry and previous == applied and len(changed) == 1:
        # A no-op apply changes nothing, not even the time of its entry (no new resourceVersion).
        return {
            **merged,
            "metadata": {**merged["metadata"], "managedFields": base["metadata"]["managedFields"]},
        }
    if any(_entry_key(e) == key for e, _ in entries):
        entries = [(e, applied if _entry_key(e) == key else p) for e, p in entries]
        entries = [({**e, "apiVersion": api_version} if _entry_key(e) == key else e, p) for e, p in entries]
    else:
        entries.append((_new_entry(manager, "Apply", api_version, subresource), applied))
    merged.setdefault("metadata", {})["managedFields"] = _render(entries, changed, stamp)
    return merged
