"""Export names: one name may go to a Secret and to a ConfigMap, never twice to the same one."""

from __future__ import annotations

from aso import Export, KindVersion, ResourceKind, Scope

BASE = ResourceKind(
    group="contoso.azure.com",
    kind="Gadget",
    plural="gadgets",
    arm_type="Contoso.Gadgets/gadgets",
    owner=Scope.RESOURCE_GROUP,
    versions=(KindVersion(name="v1api20230101", arm_api_version="2023-01-01"),),
    storage_version="v1api20230101",
    schema_package="aso_contoso",
)


def _with(*exports: Export) -> ResourceKind:
    return ResourceKind(**{**vars(BASE), "exports": exports})


def test_same_name_as_secret_and_config_map_is_valid() -> None:
    kind = _with(
        Export(name="endpoint", secret=True, path="properties.endpoint"),
        Export(name="endpoint", secret=False, path="properties.endpoint"),
    )
    assert kind.problems() == []


def test_same_name_twice_to_the_same_destination_is_named() -> None:
    kind = _with(
        Export(name="endpoint", secret=False, path="properties.endpoint"),
        Export(name="endpoint", secret=False, path="properties.other"),
        Export(name="key", secret=True, path="keys[0].value"),
    )
    assert kind.problems() == ["exports: duplicate names in ['configMaps.endpoint']"]
