"""Unit tests of :mod:`aso.sandbox.kube.apply`: field sets, FieldsV1, merging, ownership, conflicts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aso.sandbox.kube import apply, fieldpaths
from aso.sandbox.kube.errors import ApiError

pytestmark = pytest.mark.timeout(30)

Json = dict[str, Any]

SCHEMA: Json = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "string"},
                "replicas": {"type": "integer"},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                "args": {"type": "array", "items": {"type": "string"}},
                "zones": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                    },
                },
                "empty": {"type": "object", "properties": {"x": {"type": "string"}}},
            },
        },
        "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
    },
}


def _obj(**spec: Any) -> Json:
    return {"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "a", "namespace": "n"}, "spec": spec}


def _apply(live: Json | None, config: Json, manager: str, *, force: bool = False) -> Json:
    return apply.apply(
        live,
        config,
        SCHEMA,
        manager=manager,
        api_version="g/v1",
        subresource=None,
        status_split=True,
        force=force,
        stamp="2026-01-01T00:00:00Z",
    )


def _update(old: Json | None, new: Json, manager: str) -> Json:
    new = copy.deepcopy(new)
    managed = apply.track_update(
        old,
        new,
        SCHEMA,
        managed=(old or {}).get("metadata", {}).get("managedFields", []),
        manager=manager,
        api_version="g/v1",
        subresource=None,
        status_split=True,
        stamp="2026-01-01T00:00:00Z",
    )
    if managed is not None:
        new["metadata"]["managedFields"] = managed
    return new


def _owned(obj: Json, manager: str) -> set[str]:
    for entry in obj["metadata"].get("managedFields", []):
        if entry["manager"] == manager:
            return {fieldpaths.path_string(p) for p in fieldpaths.from_fields_v1(entry["fieldsV1"])}
    return set()


def test_field_set_follows_the_schema_and_never_owns_server_metadata() -> None:
    obj = _obj(
        size="s", tags={"a": "1"}, args=["x"], zones=["z1"], ports=[{"name": "http", "port": 80}], empty={}
    )
    obj["metadata"].update(labels={"l": "v"}, uid="u", resourceVersion="3", finalizers=["f/x"])
    obj["status"] = {"phase": "Ready"}
    paths = {fieldpaths.path_string(p) for p in fieldpaths.field_set(obj, SCHEMA, status="without")}
    assert paths == {
        ".spec.size",
        ".spec.tags.a",
        ".spec.args",
        '.spec.zones[="z1"]',
        '.spec.ports[name="http"]',
        '.spec.ports[name="http"].name',
        '.spec.ports[name="http"].port',
        ".spec.empty",
        ".metadata.labels.l",
        '.metadata.finalizers[="f/x"]',
    }
    assert {fieldpaths.path_string(p) for p in fieldpaths.field_set(obj, SCHEMA, status="only")} == {
        ".status.phase"
    }


def test_fields_v1_round_trip_and_dot_for_members_with_members_below() -> None:
    paths = {("f:spec", 'k:{"name":"http"}'), ("f:spec", 'k:{"name":"http"}', "f:port"), ("f:spec", "f:size")}
    fields = fieldpaths.to_fields_v1(paths)
    assert fields == {"f:spec": {'k:{"name":"http"}': {".": {}, "f:port": {}}, "f:size": {}}}
    assert fieldpaths.from_fields_v1(fields) == paths


def test_merge_by_list_type() -> None:
    live = _obj(args=["a", "b"], zones=["z1"], ports=[{"name": "http", "port": 80}, {"name": "x", "port": 1}])
    config = _obj(args=["c"], zones=["z2"], ports=[{"name": "http", "port": 8080}])
    merged = apply.merge(live, config, fieldpaths.root_schema(SCHEMA))
    assert merged["spec"]["args"] == ["c"]  # atomic: replaced
    assert merged["spec"]["zones"] == ["z1", "z2"]  # set: union
    assert merged["spec"]["ports"] == [{"name": "http", "port": 8080}, {"name": "x", "port": 1}]


def test_apply_creates_and_owns_what_it_applied() -> None:
    obj = _apply(None, _obj(size="s", tags={"a": "1"}), "alice")
    assert obj["spec"] == {"size": "s", "tags": {"a": "1"}}
    (entry,) = obj["metadata"]["managedFields"]
    assert entry["manager"] == "alice"
    assert entry["operation"] == "Apply"
    assert entry["fieldsType"] == "FieldsV1"
    assert _owned(obj, "alice") == {".spec.size", ".spec.tags.a"}


def test_a_different_value_on_a_field_another_manager_owns_is_a_conflict() -> None:
    obj = _apply(None, _obj(size="s", replicas=1), "alice")
    with pytest.raises(ApiError) as caught:
        _apply(obj, _obj(size="m", replicas=2), "bob")
    error = caught.value
    assert error.code == 409
    assert error.reason == "Conflict"
    assert error.message == (
        'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n- .spec.size'
    )
    assert error.details["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".spec.replicas"},
        {"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".spec.size"},
    ]


def test_the_same_value_is_shared_ownership_and_force_takes_the_field() -> None:
    obj = _apply(None, _obj(size="s", replicas=1), "alice")
    shared = _apply(obj, _obj(size="s"), "bob")
    assert _owned(shared, "alice") == {".spec.size", ".spec.replicas"}
    assert _owned(shared, "bob") == {".spec.size"}
    forced = _apply(shared, _obj(replicas=3), "carol", force=True)
    assert forced["spec"]["replicas"] == 3
    assert _owned(forced, "alice") == {".spec.size"}
    assert _owned(forced, "carol") == {".spec.replicas"}


def test_an_update_manager_is_named_with_its_version_in_conflicts() -> None:
    obj = _update(None, _obj(size="s"), "kubectl-create")
    with pytest.raises(ApiError) as caught:
        _apply(obj, _obj(size="m"), "kubectl")
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-create" using g/v1: .spec.size'
    )


def test_fields_no_longer_applied_are_removed_unless_someone_else_owns_them() -> None:
    obj = _apply(None, _obj(size="s", replicas=1, tags={"a": "1", "b": "2"}), "alice")
    obj = _apply(obj, _obj(tags={"b": "2"}), "bob")  # bob co-owns tags.b
    obj = _apply(obj, _obj(size="s"), "alice")
    assert obj["spec"] == {"size": "s", "tags": {"b": "2"}}
    assert _owned(obj, "alice") == {".spec.size"}


def test_map_list_items_are_owned_one_by_one() -> None:
    obj = _apply(None, _obj(ports=[{"name": "a", "port": 1}]), "alice")
    obj = _apply(obj, _obj(ports=[{"name": "b", "port": 2}]), "bob")
    assert [p["name"] for p in obj["spec"]["ports"]] == ["a", "b"]
    obj = _apply(obj, _obj(size="s"), "alice")  # alice drops her item
    assert obj["spec"]["ports"] == [{"name": "b", "port": 2}]


def test_an_update_takes_the_fields_it_changed_from_everyone() -> None:
    obj = _apply(None, _obj(size="s", replicas=1), "alice")
    changed = copy.deepcopy(obj)
    changed["spec"]["replicas"] = 5
    changed["spec"]["tags"] = {"t": "1"}
    updated = _update(obj, changed, "kubectl-edit")
    assert _owned(updated, "alice") == {".spec.size"}
    assert _owned(updated, "kubectl-edit") == {".spec.replicas", ".spec.tags.t"}
    entry = updated["metadata"]["managedFields"][-1]
    assert (entry["operation"], entry["apiVersion"]) == ("Update", "g/v1")
    assert (
        apply.track_update(
            updated,
            updated,
            SCHEMA,
            managed=updated["metadata"]["managedFields"],
            manager="x",
            api_version="g/v1",
            subresource=None,
            status_split=True,
            stamp="t",
        )
        is None
    )  # nothing changed: managedFields (and their times) are left alone
    removed = copy.deepcopy(updated)
    del removed["spec"]["size"]
    assert _owned(_update(updated, removed, "kopf"), "alice") == set()
    assert "alice" not in [
        e["manager"] for e in _update(updated, removed, "kopf")["metadata"]["managedFields"]
    ]


def test_status_and_main_resource_managers_own_disjoint_halves() -> None:
    obj = _apply(None, _obj(size="s"), "alice")
    status = apply.apply(
        obj,
        {"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "a"}, "status": {"phase": "Ready"}},
        SCHEMA,
        manager="controller",
        api_version="g/v1",
        subresource="status",
        status_split=True,
        force=False,
        stamp="t",
    )
    assert status["status"] == {"phase": "Ready"}
    entry = status["metadata"]["managedFields"][-1]
    assert entry["subresource"] == "status"
    assert _owned(status, "controller") == {".status.phase"}
    config = _obj(size="s")
    config["status"] = {"phase": "ignored"}
    again = _apply(status, config, "alice")
    assert again["status"] == {"phase": "Ready"}  # the main resource does not write status


def test_managed_fields_a_request_carries() -> None:
    stored = [{"manager": "a", "operation": "Apply", "fieldsV1": {"f:spec": {"f:size": {}}}}]
    assert apply.requested_managed(apply.MISSING, stored) == stored  # left out: kept
    assert apply.requested_managed([], stored) == stored  # an empty list never strips them
    assert apply.requested_managed([{}], stored) == []  # one empty entry does
    mine = [{**stored[0], "manager": "b"}]
    assert apply.requested_managed(mine, stored) == mine


def test_an_object_without_managed_fields_belongs_to_before_first_apply() -> None:
    legacy = _obj(size="s", replicas=1)
    with pytest.raises(ApiError) as caught:
        _apply(legacy, _obj(size="m"), "kubectl")
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "before-first-apply" using g/v1: .spec.size'
    )
    shared = _apply(legacy, _obj(size="s"), "kubectl")
    assert _owned(shared, "before-first-apply") == {".spec.size", ".spec.replicas"}
    assert _owned(shared, "kubectl") == {".spec.size"}


def test_apply_never_changes_the_live_object_and_an_emptied_map_goes() -> None:
    live = _apply(None, _obj(size="s", tags={"a": "1"}, zones=["z1"]), "alice")
    snapshot = copy.deepcopy(live)
    result = _apply(live, _obj(size="s"), "alice")
    assert live == snapshot  # the live object may be the stored one: never edited in place
    assert result["spec"] == {"size": "s"}  # tags and zones emptied, so gone; spec stays
