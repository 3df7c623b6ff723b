"""Versions convert losslessly through the API server and the operator's conversion webhook: a
fully populated object of every kind, written in one version, reads back unchanged in it after a
trip through the other (fields the other version lacks survive in the property bag)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from aso.testing import KubeApi, OperatorProcess, create, get
from aso_cosmosdb.plugin import KINDS

pytestmark = pytest.mark.timeout(180)

GROUP = "documentdb.azure.com"
VERSIONS = ("v1api20231115", "v1api20240815")
SOME_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.Network/virtualNetworks/vnet"
)
#: The object stays out of Azure: the test is about what Kubernetes stores and serves.
SKIP = {"serviceoperator.azure.com/reconcile-policy": "skip"}


def _filled(schema: dict[str, Any]) -> Any:
    """A value for every property the schema describes (first enum value, smallest allowed number)."""
    if schema.get("x-aso-kind") == "reference":
        return [{"armId": SOME_ID}] if schema.get("type") == "array" else {"armId": SOME_ID}
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        if "properties" in schema:
            return {key: _filled(sub) for key, sub in schema["properties"].items()}
        extra = schema.get("additionalProperties")
        return {"key": _filled(extra)} if isinstance(extra, dict) else {}
    if kind == "array":
        return [_filled(schema["items"])]
    if kind == "integer":
        return int(max(schema.get("minimum", 1), 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2024-01-02T03:04:05Z"
    return "text"


def _within(part: Any, whole: Any) -> bool:
    """Whether ``part`` is ``whole`` with some object properties left out (at any depth)."""
    if isinstance(part, dict) and isinstance(whole, dict):
        return all(key in whole and _within(value, whole[key]) for key, value in part.items())
    if isinstance(part, list) and isinstance(whole, list):
        return len(part) == len(whole) and all(_within(p, w) for p, w in zip(part, whole, strict=True))
    return bool(part == whole)


def _spec(kind_name: str, version: str) -> dict[str, Any]:
    path = resources.files("aso_cosmosdb") / "schemas" / f"{kind_name.lower()}.{version}.json"
    spec: dict[str, Any] = _filled(json.loads(path.read_text())["spec"])
    return spec


@pytest.mark.parametrize("written", VERSIONS)
def test_fully_populated_objects_round_trip_through_the_other_version(
    written: str, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    other = next(v for v in VERSIONS if v != written)
    for kind in KINDS:
        name = f"full-{kind.plural[:40]}"
        spec = {**_spec(kind.kind, written), "owner": {"armId": SOME_ID}}
        obj = {
            "apiVersion": f"{GROUP}/{written}",
            "kind": kind.kind,
            "metadata": {"name": name, "namespace": "default", "annotations": SKIP},
            "spec": spec,
        }
        create(kube_api, obj, plural=kind.plural)
        seen_other = get(kube_api, (GROUP, other, kind.plural), name)
        assert seen_other is not None
        back = get(kube_api, (GROUP, written, kind.plural), name)
        assert back is not None
        assert back["spec"] == spec, kind.kind
        # The other version shows what it has of the object, unchanged, and nothing else.
        assert _within(seen_other["spec"], spec), (kind.kind, seen_other["spec"])
