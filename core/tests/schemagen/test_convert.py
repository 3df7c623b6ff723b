"""The SDK-model -> ASO-shaped schema conversion, on hand-made classes of both SDK styles."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import jsonschema
import pytest

from aso.schemagen import PropertyFacts, SchemaGenError, build_schemas, strip_extensions
from aso.schemagen.convert import reference_name
from aso.schemagen.models import short_description

Schema = dict[str, Any]

SERVER_FACTS = {
    "properties.administratorLoginPassword": PropertyFacts(is_secret=True),
    "properties.subnetId": PropertyFacts(arm_reference=True),
    "properties.tenantId": PropertyFacts(import_config_map_mode="optional"),
    "properties.version": PropertyFacts(import_config_map_mode="required"),
    "properties.rules.id": PropertyFacts(arm_reference=True),
}


@pytest.fixture(scope="module")
def server(msrest: ModuleType) -> tuple[Schema, Schema]:
    return build_schemas(msrest.Server, SERVER_FACTS)


def walk(node: Any) -> list[Schema]:
    """Every schema object below node (properties, items, additionalProperties)."""
    found: list[Schema] = []
    if isinstance(node, dict):
        found.append(node)
        for child in node.get("properties", {}).values():
            found.extend(walk(child))
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                found.extend(walk(node[key]))
    return found


def assert_structural(schema: Schema) -> None:
    for node in walk(schema):
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), node
        assert node.get("additionalProperties") is not False
        assert "$ref" not in node


# -- msrest style --------------------------------------------------------------------------------


def test_msrest_scalar_types_and_flattening(server: tuple[Schema, Schema]) -> None:
    props = server[0]["properties"]
    assert props["location"] == {
        "type": "string",
        "description": "The geo-location where the resource lives.",
    }
    assert props["capacity"]["type"] == "integer"
    assert props["capacity"]["x-aso-arm"] == "properties.capacity"
    assert props["ratio"]["type"] == "number"
    assert props["enabled"]["type"] == "boolean"
    assert props["created"] == {"type": "string", "format": "date-time", "x-aso-arm": "properties.created"}
    assert props["tags"] == {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "Resource tags.",
    }
    assert props["metadata"]["x-kubernetes-preserve-unknown-fields"] is True
    # An escaped dot is part of one ARM key, not a nesting level.
    assert props["odata.type"]["x-aso-arm"] == "properties.odata.type"


def test_msrest_root_envelope_and_readonly_excluded_from_spec(server: tuple[Schema, Schema]) -> None:
    spec, status = server
    for name in ("id", "name", "type", "etag", "fullyQualifiedDomainName", "status"):
        assert name not in spec["properties"]
    for name in ("id", "name", "type", "etag", "fullyQualifiedDomainName", "status", "location"):
        assert name in status["properties"]
    assert status["properties"]["status"]["properties"]["state"] == {"type": "string"}


def test_msrest_enums_from_init_hints(server: tuple[Schema, Schema]) -> None:
    spec, status = server
    assert spec["properties"]["sku"]["properties"]["name"]["enum"] == ["Standard_LRS", "Premium_LRS"]
    assert spec["properties"]["allowedSkus"]["items"]["enum"] == ["Standard_LRS", "Premium_LRS"]
    # Status carries no enum: Azure may report values newer than the API description.
    assert "enum" not in status["properties"]["sku"]["properties"]["name"]
    # A constant becomes a one-value enum and is not required.
    assert spec["properties"]["kind"]["enum"] == ["SqlServer"]


def test_msrest_validation(server: tuple[Schema, Schema]) -> None:
    spec, status = server
    assert spec["required"] == ["location", "versionFromConfig"]
    assert spec["properties"]["sku"]["required"] == ["name"]
    assert "tier" not in spec["properties"]["sku"]["properties"]
    login = spec["properties"]["administratorLogin"]
    assert (login["pattern"], login["maxLength"], login["minLength"]) == ("^[a-z]+$", 63, 1)
    assert (spec["properties"]["capacity"]["maximum"], spec["properties"]["capacity"]["minimum"]) == (100, 1)
    zones = spec["properties"]["zones"]
    assert (zones["maxItems"], zones["minItems"]) == (3, 1)
    assert zones["items"] == {"type": "string", "pattern": r"^\d$"}
    assert "required" not in status
    assert all("pattern" not in node for node in walk(status))


def test_msrest_descriptions_are_first_sentences(server: tuple[Schema, Schema]) -> None:
    login = server[0]["properties"]["administratorLogin"]
    assert login["description"] == "Administrator username for the server."
    assert short_description("One. Two.") == "One."
    assert short_description("  Required.  ") is None


def test_secret_input(server: tuple[Schema, Schema]) -> None:
    spec, status = server
    secret = spec["properties"]["administratorLoginPassword"]
    assert secret["type"] == "object"
    assert secret["properties"] == {"name": {"type": "string"}, "key": {"type": "string"}}
    assert secret["required"] == ["key", "name"]
    assert secret["x-aso-kind"] == "secret"
    assert secret["x-aso-arm"] == "properties.administratorLoginPassword"
    assert "administratorLoginPassword" not in status["properties"]


def test_arm_reference(server: tuple[Schema, Schema]) -> None:
    spec, status = server
    assert "subnetId" not in spec["properties"]
    ref = spec["properties"]["subnetReference"]
    assert set(ref["properties"]) == {"armId", "group", "kind", "name"}
    assert all(p == {"type": "string"} for p in ref["properties"].values())
    assert (ref["x-aso-arm"], ref["x-aso-kind"]) == ("properties.subnetId", "reference")
    # Inside an array item, relative to the item; `id` becomes `reference`.
    rule = spec["properties"]["rules"]["items"]
    assert rule["properties"]["reference"]["x-aso-arm"] == "id"
    assert rule["properties"]["action"]["enum"] == ["Standard_LRS", "Premium_LRS"]
    # Status keeps plain strings under the ARM names.
    assert status["properties"]["subnetId"] == {
        "type": "string",
        "description": "The subnet the server is bound to.",
        "x-aso-arm": "properties.subnetId",
    }
    assert status["properties"]["rules"]["items"]["properties"]["id"] == {"type": "string"}


def test_reference_names() -> None:
    assert reference_name("subnetId") == "subnetReference"
    assert reference_name("id") == "reference"
    assert reference_name("subnetIds") == "subnetReferences"
    assert reference_name("keyVault") == "keyVaultReference"


def test_config_map_import(server: tuple[Schema, Schema]) -> None:
    props = server[0]["properties"]
    assert props["tenantId"]["type"] == "string"
    from_config = props["tenantIdFromConfig"]
    assert from_config["required"] == ["key", "name"]
    assert (from_config["x-aso-kind"], from_config["x-aso-arm"]) == ("config", "properties.tenantId")
    # required mode: only the ConfigMap form is offered.
    assert "version" not in props
    assert props["versionFromConfig"]["x-aso-arm"] == "properties.version"


def test_recursion_guard(server: tuple[Schema, Schema]) -> None:
    error = server[0]["properties"]["error"]
    details = error["properties"]["details"]
    assert details["items"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    status_error = server[1]["properties"]["error"]
    assert status_error["properties"]["details"]["items"]["x-kubernetes-preserve-unknown-fields"] is True


def test_polymorphic_model_becomes_one_property_per_subtype(server: tuple[Schema, Schema]) -> None:
    spec, status = server
    union = spec["properties"]["backupPolicy"]
    assert (union["x-aso-kind"], union["x-aso-discriminator"]) == ("union", "type")
    assert union["x-aso-arm"] == "properties.backupPolicy"
    assert set(union["properties"]) == {"continuous", "periodic"}
    periodic = union["properties"]["periodic"]
    assert periodic["x-aso-discriminator-value"] == "Periodic"
    assert periodic["properties"]["type"]["enum"] == ["Periodic"]
    assert periodic["required"] == ["type"]
    assert periodic["properties"]["intervalInMinutes"]["minimum"] == 0
    interval = periodic["properties"]["intervalInMinutes"]
    assert interval["x-aso-arm"] == "periodicModeProperties.intervalInMinutes"
    assert union["properties"]["continuous"]["properties"]["tier"] == {"type": "string"}
    status_union = status["properties"]["backupPolicy"]
    status_type = status_union["properties"]["periodic"]["properties"]["type"]
    assert status_type == {"type": "string", "description": "Describes the mode of backups."}
    validator = jsonschema.Draft202012Validator(strip_extensions(spec))
    base = {"location": "x", "versionFromConfig": {"name": "cm", "key": "v"}}
    good = {**base, "backupPolicy": {"periodic": {"type": "Periodic", "intervalInMinutes": 5}}}
    assert list(validator.iter_errors(good)) == []
    bad = {**base, "backupPolicy": {"periodic": {"type": "Continuous"}}}
    assert [".".join(map(str, e.absolute_path)) for e in validator.iter_errors(bad)] == [
        "backupPolicy.periodic.type"
    ]


def test_user_assigned_identities_become_a_list_of_references(server: tuple[Schema, Schema]) -> None:
    spec, status = server
    identity = spec["properties"]["identity"]
    assert set(identity["properties"]) == {"type", "userAssignedIdentities"}
    identities = identity["properties"]["userAssignedIdentities"]
    assert identities["x-aso-kind"] == "identities"
    assert identities["type"] == "array"
    assert identities["items"]["required"] == ["reference"]
    assert identities["items"]["properties"]["reference"]["x-aso-kind"] == "reference"
    status_identities = status["properties"]["identity"]["properties"]["userAssignedIdentities"]
    assert status_identities["additionalProperties"]["properties"]["clientId"] == {"type": "string"}
    # msrest's catch-all for undeclared keys ("key": "") is no property.
    status_identity = status["properties"]["identity"]["properties"]
    assert set(status_identity) == {"principalId", "type", "userAssignedIdentities"}


def test_structural_and_strippable(server: tuple[Schema, Schema]) -> None:
    for schema in server:
        assert_structural(schema)
        stripped = strip_extensions(schema)
        assert "x-aso-" not in repr(stripped)
        jsonschema.Draft202012Validator.check_schema(stripped)


def test_sample_validates_and_bad_values_are_rejected(server: tuple[Schema, Schema]) -> None:
    validator = jsonschema.Draft202012Validator(strip_extensions(server[0]))
    good = {
        "location": "westus",
        "sku": {"name": "Standard_LRS"},
        "administratorLogin": "admin",
        "administratorLoginPassword": {"name": "creds", "key": "password"},
        "subnetReference": {"armId": "/subscriptions/x/resourceGroups/rg"},
        "tenantIdFromConfig": {"name": "cm", "key": "tenant"},
        "versionFromConfig": {"name": "cm", "key": "version"},
        "rules": [{"reference": {"group": "network.azure.com", "kind": "Subnet", "name": "s"}}],
    }
    assert list(validator.iter_errors(good)) == []
    bad = {**good, "sku": {"name": "Gold"}, "capacity": "many"}
    paths = sorted(".".join(map(str, e.absolute_path)) for e in validator.iter_errors(bad))
    assert paths == ["capacity", "sku.name"]
    assert list(validator.iter_errors({"sku": {"name": "Standard_LRS"}}))  # location is required


def test_unused_fact_is_an_error(msrest: ModuleType) -> None:
    with pytest.raises(SchemaGenError, match=r"properties\.nope"):
        build_schemas(msrest.Server, {"properties.nope": PropertyFacts(is_secret=True)})


def test_rename(msrest: ModuleType) -> None:
    spec, status = build_schemas(msrest.Server, {"properties.capacity": PropertyFacts(rename="size")})
    assert spec["properties"]["size"]["x-aso-arm"] == "properties.capacity"
    assert status["properties"]["size"]["x-aso-arm"] == "properties.capacity"


def test_nested_object_without_writable_fields_is_dropped(msrest: ModuleType) -> None:
    spec, _ = build_schemas(msrest.Server)
    assert "status" not in spec["properties"]
    assert "sku" in spec["properties"]


# -- _RestField style ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vault(restfield: ModuleType) -> tuple[Schema, Schema]:
    facts = {
        "properties.keyId": PropertyFacts(arm_reference=True),
        "properties.secretValue": PropertyFacts(is_secret=True),
    }
    return build_schemas(restfield.Vault, facts)


def test_restfield_types_and_names(vault: tuple[Schema, Schema]) -> None:
    props = vault[0]["properties"]
    assert props["sizeGB"] == {"type": "integer", "description": "The size in GB."}
    assert props["ratio"] == {"type": "number"}
    assert props["enabled"] == {"type": "boolean"}
    assert props["created"] == {"type": "string", "format": "date-time"}
    assert props["tags"] == {"type": "object", "additionalProperties": {"type": "string"}}
    assert props["tiers"] == {"type": "array", "items": {"type": "string", "enum": ["Hot", "Cool"]}}
    assert props["extra"]["x-kubernetes-preserve-unknown-fields"] is True
    assert vault[0]["required"] == ["location"]


def test_restfield_visibility(vault: tuple[Schema, Schema]) -> None:
    spec, status = vault
    for name in ("id", "name", "type", "provisioningState"):
        assert name not in spec["properties"]
        assert name in status["properties"]
    assert status["properties"]["provisioningState"]["x-aso-arm"] == "properties.provisioningState"
    # A write-only (create/update) field is spec only.
    assert "secretValue" in spec["properties"]
    assert "secretValue" not in status["properties"]


def test_restfield_flattening_enum_reference_secret(vault: tuple[Schema, Schema]) -> None:
    props = vault[0]["properties"]
    assert "properties" not in props
    assert props["accessTier"] == {
        "type": "string",
        "enum": ["Hot", "Cool"],
        "x-aso-arm": "properties.accessTier",
    }
    assert props["keyReference"]["x-aso-arm"] == "properties.keyId"
    assert props["keyReference"]["x-aso-kind"] == "reference"
    assert props["secretValue"]["x-aso-kind"] == "secret"


def test_restfield_recursion_guard(vault: tuple[Schema, Schema]) -> None:
    tree = vault[0]["properties"]["tree"]
    assert tree["properties"]["label"] == {"type": "string", "description": "The label."}
    assert tree["properties"]["children"]["items"]["x-kubernetes-preserve-unknown-fields"] is True
    for schema in vault:
        assert_structural(schema)


# -- ASO's generator-config facts beyond the SDK -------------------------------------------------


def test_separate_status_model(msrest: ModuleType) -> None:
    """ASO's Vault: spec from the request model (location required), status from the response."""
    spec, status = build_schemas(msrest.VaultCreateOrUpdateParameters, status_model=msrest.Vault)
    assert spec["required"] == ["location", "tenantId"]
    assert "vaultUri" not in spec["properties"]
    assert {"id", "name", "type", "location", "vaultUri"} <= set(status["properties"])


def test_a_fact_of_the_status_model_only_counts_as_used(msrest: ModuleType) -> None:
    facts = {"properties.vaultUri": PropertyFacts(rename="uri")}
    _, status = build_schemas(msrest.VaultCreateOrUpdateParameters, facts, status_model=msrest.Vault)
    assert status["properties"]["uri"]["x-aso-arm"] == "properties.vaultUri"
    with pytest.raises(SchemaGenError, match=r"properties\.nope"):
        build_schemas(
            msrest.VaultCreateOrUpdateParameters,
            {"properties.nope": PropertyFacts(rename="x")},
            status_model=msrest.Vault,
        )


def test_required_overrides(msrest: ModuleType) -> None:
    facts = {
        "properties.tenantId": PropertyFacts(required=False),
        "properties.enableSoftDelete": PropertyFacts(required=True),
    }
    spec, _ = build_schemas(msrest.VaultCreateOrUpdateParameters, facts)
    assert spec["required"] == ["enableSoftDelete", "location"]


def test_enum_additions(msrest: ModuleType) -> None:
    """ASO adds ``createOrRecover`` on top of the SDK's CreateMode; status keeps no enum."""
    facts = {"properties.createMode": PropertyFacts(add_enum=("createOrRecover",))}
    spec, status = build_schemas(msrest.VaultCreateOrUpdateParameters, facts, status_model=msrest.Vault)
    assert spec["properties"]["createMode"]["enum"] == ["default", "recover", "createOrRecover"]
    assert "enum" not in status["properties"]["createMode"]


def test_enum_addition_to_a_non_string_is_an_error(msrest: ModuleType) -> None:
    with pytest.raises(SchemaGenError, match=r"enableSoftDelete: addEnum applies to a string"):
        build_schemas(
            msrest.VaultCreateOrUpdateParameters,
            {"properties.enableSoftDelete": PropertyFacts(add_enum=("x",))},
        )
