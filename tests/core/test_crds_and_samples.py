"""Generated CRDs: shape, ASO samples validating against them, wrong manifests rejected by field."""

from __future__ import annotations

import pathlib
from typing import Any

import jsonschema
import pytest
import yaml

from aso.crd import build_crd
from aso.host import Registry
from aso.schemas import strict, validation_errors

REPO = pathlib.Path(__file__).resolve().parents[2]


def _samples(conformance: pathlib.Path) -> list[pathlib.Path]:
    return sorted((conformance / "aso-samples").rglob("*.yaml"))


def _walk(schema: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    nodes: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, dict):
        nodes.append((path, schema))
        for key, sub in schema.get("properties", {}).items():
            nodes.extend(_walk(sub, f"{path}.{key}"))
        if isinstance(schema.get("items"), dict):
            nodes.extend(_walk(schema["items"], f"{path}[]"))
        if isinstance(schema.get("additionalProperties"), dict):
            nodes.extend(_walk(schema["additionalProperties"], f"{path}{{}}"))
    return nodes


def test_every_crd_is_structural_and_aso_shaped(registry: Registry) -> None:
    for kind in registry.all_kinds():
        crd = build_crd(kind)
        spec = crd["spec"]
        assert crd["metadata"]["name"] == f"{kind.plural}.{kind.group}"
        assert [v["name"] for v in spec["versions"] if v["storage"]] == [kind.stored_version]
        names = [v.name for v in kind.versions]
        assert [v["name"] for v in spec["versions"]] == [n + s for n in names for s in ("", "storage")]
        assert "azure" in spec["names"]["categories"]
        for version in spec["versions"]:
            assert version["served"] is True
            assert version["subresources"] == {"status": {}}
            assert [c["name"] for c in version["additionalPrinterColumns"]] == [
                "Ready",
                "Severity",
                "Reason",
                "Message",
            ]
            schema = version["schema"]["openAPIV3Schema"]
            for path, node in _walk(schema):
                assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), path
                assert node.get("additionalProperties") is not False, path
                assert not [k for k in node if k.startswith("x-aso-")], path
                assert "$ref" not in node, path
            props = schema["properties"]
            assert "conditions" in props["status"]["properties"]
            # Singletons (blobServices/default, throughputSettings/default) have a fixed name and no
            # spec.azureName, as in ASO.
            assert ("azureName" in props["spec"]["properties"]) == (kind.azure_name is None)
        # Every kind has storage versions, so every kind converts through the webhook, as in ASO.
        client = spec["conversion"]["webhook"]["clientConfig"]["service"]
        assert client == {
            "name": "aso-webhook",
            "namespace": "aso-system",
            "path": "/convert",
            "port": 443,
        }
        assert "caBundle" not in spec["conversion"]["webhook"]["clientConfig"]


def test_owner_shape_follows_scope(registry: Registry) -> None:
    rg = build_crd(registry.kind("resources.azure.com", "ResourceGroup"))  # type: ignore[arg-type]
    widget = build_crd(registry.kind("test.aso.dev", "Widget"))  # type: ignore[arg-type]
    rg_spec = rg["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    widget_spec = widget["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert "owner" not in rg_spec["properties"]
    assert set(widget_spec["properties"]["owner"]["properties"]) == {"name", "armId"}
    assert "owner" in widget_spec["required"]
    secrets = widget_spec["properties"]["operatorSpec"]["properties"]["secrets"]["properties"]
    assert set(secrets) == {"primaryKey"}
    assert set(widget_spec["properties"]["operatorSpec"]["properties"]["configMaps"]["properties"]) == {
        "endpoint"
    }


#: ASO samples no API server accepts as written: the field it refuses. documentdb's MongoDB account
#: of v1api20240815 writes `serverVersion: 7.0`, a YAML number; the property is a string enum in
#: ASO's CRD as in ours (kubectl sends 7, refused).
REFUSED_SAMPLES = {
    "documentdb/mongodb/v1api20240815/v1api20240815_databaseaccount.yaml": "spec.apiProperties.serverVersion",
}


def test_every_aso_sample_of_a_served_kind_validates(registry: Registry, conformance: pathlib.Path) -> None:
    checked: list[str] = []
    for path in _samples(conformance):
        for doc in yaml.safe_load_all(path.read_text()):
            group, _, version = doc["apiVersion"].rpartition("/")
            kind = registry.kind(group, doc["kind"])
            if kind is None or all(v.name != version for v in kind.versions):
                continue
            refused = REFUSED_SAMPLES.get(path.relative_to(conformance / "aso-samples").as_posix())
            errors = validation_errors(kind, doc)
            if refused is not None:
                assert errors, path
                assert all(e.startswith(f"{refused}:") for e in errors), (path, errors)
                continue
            assert errors == [], path
            checked.append(f"{path.name}")
    # ResourceGroup v1api20200601 is served; every plugin added later widens this list.
    assert "v1api20200601_resourcegroup.yaml" in checked
    print(f"validated {len(checked)} ASO samples: {checked}")


def _rg_sample(conformance: pathlib.Path) -> dict[str, Any]:
    path = conformance / "aso-samples/resources/v1api20200601/v1api20200601_resourcegroup.yaml"
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["spec"].__setitem__("location", 42), "spec.location: 42 is not of type 'string'"),
        (lambda d: d["spec"].__setitem__("locaton", "westus"), "spec.locaton: unknown field"),
        (lambda d: d["spec"].pop("location"), "spec: 'location' is a required property"),
        (lambda d: d["spec"].__setitem__("tags", {"env": 1}), "spec.tags.env: 1 is not of type 'string'"),
    ],
)
def test_wrong_resource_group_rejected_naming_the_field(
    registry: Registry, conformance: pathlib.Path, mutate: Any, expected: str
) -> None:
    doc = _rg_sample(conformance)
    mutate(doc)
    kind = registry.kind("resources.azure.com", "ResourceGroup")
    assert kind is not None
    assert expected in validation_errors(kind, doc)


def test_bad_enum_rejected_naming_field_and_allowed_values(registry: Registry) -> None:
    kind = registry.kind("test.aso.dev", "Widget")
    assert kind is not None
    doc = {
        "apiVersion": "test.aso.dev/v1api20240101",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"owner": {"name": "rg"}, "location": "westus", "size": "Huge"},
    }
    (message,) = validation_errors(kind, doc)
    assert message.startswith("spec.size: 'Huge' is not one of")
    assert "'Small', 'Medium', 'Large'" in message


def test_storage_version_schema_is_the_served_one_plus_asos_fields(registry: Registry) -> None:
    """ASO's storage types: the served shape plus spec.originalVersion and a $propertyBag on every
    generated object (spec, status, nested ARM objects, operatorSpec), none on owner or conditions."""
    widget = build_crd(registry.kind("test.aso.dev", "Widget"))  # type: ignore[arg-type]
    by_name = {v["name"]: v["schema"]["openAPIV3Schema"]["properties"] for v in widget["spec"]["versions"]}
    served, stored = by_name["v1api20240101"], by_name["v1api20240101storage"]
    bag = {"type": "object", "additionalProperties": {"type": "string"}}
    spec = stored["spec"]["properties"]
    assert spec["originalVersion"]["type"] == "string"
    assert {k: spec["$propertyBag"][k] for k in bag} == bag
    assert "$propertyBag" in spec["operatorSpec"]["properties"]
    assert "$propertyBag" not in spec["owner"]["properties"]
    assert "$propertyBag" in stored["status"]["properties"]
    assert "$propertyBag" not in stored["status"]["properties"]["conditions"]["items"]["properties"]
    assert set(spec) - set(served["spec"]["properties"]) == {"originalVersion", "$propertyBag"}
    assert "originalVersion" not in served["spec"]["properties"]


def test_object_shaped_as_aso_v2_stores_it_validates(registry: Registry) -> None:
    """A ResourceGroup as ASO v2's v1api20200601storage types hold it (AzureName, Location, ManagedBy,
    OriginalVersion, PropertyBag, Tags; status with Properties.PropertyBag) fits the storage schema."""
    rg = build_crd(registry.kind("resources.azure.com", "ResourceGroup"))  # type: ignore[arg-type]
    (stored,) = [v for v in rg["spec"]["versions"] if v["storage"]]
    assert stored["name"] == "v1api20200601storage"
    obj = {
        "apiVersion": "resources.azure.com/v1api20200601storage",
        "kind": "ResourceGroup",
        "metadata": {"name": "aso-sample-rg"},
        "spec": {
            "$propertyBag": {"Other": "1"},
            "azureName": "aso-sample-rg",
            "location": "westcentralus",
            "managedBy": "someone",
            "originalVersion": "v1api20200601",
            "tags": {"a": "b"},
        },
        "status": {
            "$propertyBag": {},
            "conditions": [{"lastTransitionTime": "2024-11-18T18:43:45Z", "status": "True", "type": "Ready"}],
            "id": "/subscriptions/s/resourceGroups/aso-sample-rg",
            "properties": {"$propertyBag": {}, "provisioningState": "Succeeded"},
        },
    }
    schema = strict(stored["schema"]["openAPIV3Schema"])  # unknown fields count: nothing pruned
    assert [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(obj)] == []
