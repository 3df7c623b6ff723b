"""Declares ResourceGroup (``resources.azure.com``), ARM ``Microsoft.Resources/resourceGroups``."""

from __future__ import annotations

from collections.abc import Sequence

from aso import KindVersion, NameRule, ResourceKind, Scope, hookimpl

RESOURCE_GROUP = ResourceKind(
    group="resources.azure.com",
    kind="ResourceGroup",
    plural="resourcegroups",
    short_names=("rg",),
    arm_type="Microsoft.Resources/resourceGroups",
    owner=Scope.SUBSCRIPTION,
    versions=(
        KindVersion(name="v1api20200601", arm_api_version="2020-06-01"),
        KindVersion(name="v1api20210401", arm_api_version="2021-04-01"),
    ),
    storage_version="v1api20200601",
    schema_package="aso_resources",
    # ARM's rule for resource group names (the resourceGroupName parameter of Microsoft.Resources).
    name_rule=NameRule(
        min_length=1,
        max_length=90,
        pattern=r"[-\w._()]*[-\w_()]",
        description="1-90 characters: letters, digits, '_', '-', '.', '(', ')'; not ending in '.'",
    ),
    description="An Azure resource group: a container for resources that share a lifecycle.",
)


@hookimpl
def aso_register_kinds() -> Sequence[ResourceKind]:
    return [RESOURCE_GROUP]
