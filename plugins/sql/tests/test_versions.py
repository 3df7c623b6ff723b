"""Both served versions of every kind, through the conversion webhook: a fully populated object
written in one version reads back unchanged in the other and in its own."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import pytest
from kubernetes.client import ApiException
from sql_testkit import PLURALS

from aso.testing import KubeApi, OperatorProcess, wait_for

pytestmark = pytest.mark.timeout(120)

VERSIONS = ("v1api20211101", "v20211101")
#: aso's own fields, filled by hand: the owner by name, no reconcile (policy skip).
HAND_FILLED = {"owner", "azureName", "operatorSpec"}


def _value(schema: dict[str, Any], name: str) -> Any:
    """A value for every property the schema has: the first enum value, or one of the type."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties") or {}
        if props:
            return {key: _value(sub, key) for key, sub in props.items()}
        extra = schema.get("additionalProperties")
        return {"k": _value(extra, "k")} if isinstance(extra, dict) else {}
    if kind == "array":
        return [_value(schema["items"], name)]
    if kind == "integer":
        return 7
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2021-11-01T10:20:30Z"
    return f"{name}-value"


def populated(kind: str, version: str) -> dict[str, Any]:
    schema_file = resources.files("aso_sql") / "schemas" / f"{kind.lower()}.{version}.json"
    spec_schema = json.loads(schema_file.read_text())["spec"]
    spec = {k: _value(v, k) for k, v in spec_schema["properties"].items() if k not in HAND_FILLED}
    for key, value in list(spec.items()):
        if key.endswith("Reference") and isinstance(value, dict):
            spec[key] = {"armId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"}
    if "identity" in spec and "userAssignedIdentities" in spec["identity"]:
        spec["identity"]["userAssignedIdentities"] = [{"reference": {"group": "g", "kind": "K", "name": "n"}}]
    spec["owner"] = {"name": "owner"}
    if kind == "Server":
        spec["operatorSpec"] = {"configMaps": {"fullyQualifiedDomainName": {"name": "out", "key": "fqdn"}}}
    return {
        "apiVersion": f"sql.azure.com/{version}",
        "kind": kind,
        "metadata": {
            "name": f"full-{kind.lower()}-{version}",
            "namespace": "default",
            "annotations": {"serviceoperator.azure.com/reconcile-policy": "skip"},
        },
        "spec": spec,
    }


def _rewrite(k8s: KubeApi, version: str, plural: str, name: str) -> bool:
    """Read in ``version`` and replace it whole (the operator may write in between: then again)."""
    current = k8s.custom.get_namespaced_custom_object("sql.azure.com", version, "default", plural, name)
    current["metadata"]["labels"] = {"touched": "yes"}
    try:
        k8s.custom.replace_namespaced_custom_object(
            "sql.azure.com", version, "default", plural, name, current
        )
    except ApiException as exc:
        if exc.status == 409:
            return False
        raise
    return True


def test_fully_populated_objects_round_trip_between_versions(
    kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    custom = kube_api.custom
    for kind, plural in PLURALS.items():
        for written in VERSIONS:
            obj = populated(kind, written)
            name = obj["metadata"]["name"]
            custom.create_namespaced_custom_object(
                "sql.azure.com", written, "default", plural, obj, field_validation="Strict"
            )
            for read in VERSIONS:
                got = custom.get_namespaced_custom_object("sql.azure.com", read, "default", plural, name)
                assert got["apiVersion"] == f"sql.azure.com/{read}"
                assert got["spec"] == obj["spec"], (kind, written, read)
            # Written back in the other version and read in the first: still the same.
            other = VERSIONS[1 - VERSIONS.index(written)]
            rewrite = functools.partial(_rewrite, kube_api, other, plural, name)
            wait_for(rewrite, timeout=30, what=f"{name} rewritten")
            again = custom.get_namespaced_custom_object("sql.azure.com", written, "default", plural, name)
            assert again["spec"] == obj["spec"], (kind, written, other)
            print(f"{kind}: written in {written}, read in both, rewritten in {other}: lossless")
