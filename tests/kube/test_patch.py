"""The three patch formats, directly (the HTTP tests cover how the server applies them)."""

from __future__ import annotations

import pytest

from aso.common import merge_patch
from aso.sandbox.kube.patch import PatchError, json_patch, strategic_merge_patch

META_KEYS = {"metadata.ownerReferences": "uid", "metadata.finalizers": ""}


def test_merge_patch_merges_maps_deletes_nulls_replaces_lists() -> None:
    target = {"a": {"b": 1, "c": 2}, "l": [1, 2], "x": 1}
    assert merge_patch(target, {"a": {"b": None, "d": 3}, "l": [3], "x": None}) == {
        "a": {"c": 2, "d": 3},
        "l": [3],
    }
    assert target == {"a": {"b": 1, "c": 2}, "l": [1, 2], "x": 1}  # the input is untouched


def test_json_patch_ops() -> None:
    doc = {"metadata": {"resourceVersion": "5", "finalizers": ["a"]}, "spec": {"n": 1}}
    patched = json_patch(
        doc,
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": "5"},
            {"op": "add", "path": "/metadata/finalizers/-", "value": "b"},
            {"op": "replace", "path": "/spec/n", "value": 2},
            {"op": "copy", "from": "/spec/n", "path": "/spec/m"},
            {"op": "move", "from": "/spec/m", "path": "/spec/k"},
            {"op": "add", "path": "/metadata/annotations", "value": {"a~b/c": "1"}},
            {"op": "remove", "path": "/metadata/annotations/a~0b~1c"},
        ],
    )
    assert patched == {
        "metadata": {"resourceVersion": "5", "finalizers": ["a", "b"], "annotations": {}},
        "spec": {"n": 2, "k": 2},
    }
    with pytest.raises(PatchError, match="test operation does not apply"):
        json_patch(doc, [{"op": "test", "path": "/metadata/resourceVersion", "value": "4"}])
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "remove", "path": "/spec/missing"}])
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "replace", "path": "/spec/missing", "value": 1}])


def test_strategic_merge_patch_lists_and_directives() -> None:
    target = {
        "metadata": {
            "finalizers": ["a"],
            "ownerReferences": [{"uid": "1", "name": "one"}, {"uid": "2", "name": "two"}],
            "labels": {"x": "1", "y": "2"},
        },
        "data": {"k": "v"},
        "plain": [1, 2],
    }
    patch = {
        "metadata": {
            "finalizers": ["b", "a"],
            "ownerReferences": [
                {"uid": "2", "name": "TWO"},
                {"uid": "3", "name": "three"},
                {"uid": "1", "$patch": "delete"},
            ],
            "labels": {"y": None},
        },
        "data": {"$patch": "replace", "new": "1"},
        "plain": [3],
    }
    result = strategic_merge_patch(target, patch, META_KEYS)
    assert result["metadata"]["finalizers"] == ["a", "b"]
    assert result["metadata"]["ownerReferences"] == [
        {"uid": "2", "name": "TWO"},
        {"uid": "3", "name": "three"},
    ]
    assert result["metadata"]["labels"] == {"x": "1"}
    assert result["data"] == {"new": "1"}
    assert result["plain"] == [3]
    removed = strategic_merge_patch(
        result, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, META_KEYS
    )
    assert removed["metadata"]["finalizers"] == ["b"]
    ordered = strategic_merge_patch(
        result,
        {
            "metadata": {
                "$setElementOrder/ownerReferences": [{"uid": "3"}, {"uid": "2"}],
                "ownerReferences": [],
            }
        },
        META_KEYS,
    )
    assert [r["uid"] for r in ordered["metadata"]["ownerReferences"]] == ["3", "2"]
    retained = strategic_merge_patch({"a": 1, "b": 2}, {"$retainKeys": ["a", "c"], "c": 3}, META_KEYS)
    assert retained == {"a": 1, "c": 3}
