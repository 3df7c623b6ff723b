"""Declares the Azure Storage kinds of ``storage.azure.com``: accounts, their blob and queue
services, blob containers, queues and lifecycle management policies, as ASO v2 serves them."""

from __future__ import annotations

from collections.abc import Sequence

from aso import (
    Export,
    Extensions,
    KindVersion,
    NameRule,
    Next,
    OwnerKind,
    PermanentError,
    ReconcileContext,
    ResourceKind,
    Scope,
    hookimpl,
)

GROUP = "storage.azure.com"
PACKAGE = "aso_storage"

#: Every kind serves the same four ASO versions. ``v20230101`` is ASO's newer name for the
#: 2023-01-01 API and the hub: its storage version is the one ASO v2 stored before 2025-06-01.
#: The versions differ only by fields added in later APIs, which the core keeps in the property
#: bag on the way through the hub, so no converter is needed.
VERSIONS = (
    KindVersion(name="v1api20210401", arm_api_version="2021-04-01"),
    KindVersion(name="v1api20220901", arm_api_version="2022-09-01"),
    KindVersion(name="v1api20230101", arm_api_version="2023-01-01"),
    KindVersion(name="v20230101", arm_api_version="2023-01-01"),
)
HUB = "v20230101"

#: Storage's rule for account names (the accountName parameter of Microsoft.Storage).
ACCOUNT_NAME = NameRule(
    min_length=3,
    max_length=24,
    pattern=r"[a-z0-9]+",
    description="3-24 characters, lower-case letters and digits only",
)
#: Blob container names: lower-case letters, digits and single hyphens, beginning and ending
#: with a letter or digit; ``$root`` and ``$web`` are the reserved containers that may be created.
CONTAINER_NAME = NameRule(
    min_length=3,
    max_length=63,
    pattern=r"\$root|\$web|[a-z0-9]+(-[a-z0-9]+)*",
    description=(
        "3-63 characters: lower-case letters, digits and single hyphens, starting and ending "
        "with a letter or digit (or $root, $web)"
    ),
)
QUEUE_NAME = NameRule(
    min_length=3,
    max_length=63,
    pattern=r"[a-z0-9]+(-[a-z0-9]+)*",
    description=(
        "3-63 characters: lower-case letters, digits and single hyphens, starting and ending "
        "with a letter or digit"
    ),
)

_ENDPOINTS = ("blob", "queue", "table", "file", "web", "dfs")

#: ASO's exports of an account: both keys from listKeys (Secrets only), and each primary endpoint
#: to a Secret or a ConfigMap.
ACCOUNT_EXPORTS = (
    Export(name="key1", secret=True, action="listKeys", path="keys[0].value", description="The first key."),
    Export(name="key2", secret=True, action="listKeys", path="keys[1].value", description="The second key."),
    *(
        Export(
            name=f"{service}Endpoint",
            secret=secret,
            path=f"properties.primaryEndpoints.{service}",
            description=f"The primary {service} endpoint.",
        )
        for secret in (True, False)
        for service in _ENDPOINTS
    ),
)


async def leave_in_azure(ctx: ReconcileContext, next: Next[None]) -> None:
    """Deleting the object of a blob or queue service sends no DELETE: ARM has none for these
    singletons (they live and go with their account), so, as in ASO, only the object goes."""
    ctx.log.info("%s has no DELETE in ARM; it stays until its account is deleted", ctx.arm_id)


async def endpoints_the_account_has(ctx: ReconcileContext, next: Next[dict[str, str]]) -> dict[str, str]:
    """An endpoint export the account cannot have (a BlobStorage account has no queue, file or web
    endpoint) is a clear error naming the field, not a wait for a value that never comes."""
    values = await next()
    spec = ctx.body.get("spec") or {}
    operator_spec = spec.get("operatorSpec") or {}
    for section in ("secrets", "configMaps"):
        for name in operator_spec.get(section) or {}:
            if name.endswith("Endpoint") and name not in values:
                service = name.removesuffix("Endpoint")
                raise PermanentError(
                    f"spec.operatorSpec.{section}.{name}: a {spec.get('kind', 'storage')} account has "
                    f"no {service} endpoint; export only the endpoints its status.primaryEndpoints lists",
                    reason="ExportUnavailable",
                )
    return values


#: The account's service settings: read and written, never deleted on their own.
SERVICE_SETTINGS = Extensions(delete=leave_in_azure)

STORAGE_ACCOUNT = ResourceKind(
    group=GROUP,
    kind="StorageAccount",
    plural="storageaccounts",
    arm_type="Microsoft.Storage/storageAccounts",
    owner=Scope.RESOURCE_GROUP,
    versions=VERSIONS,
    storage_version=HUB,
    schema_package=PACKAGE,
    name_rule=ACCOUNT_NAME,
    exports=ACCOUNT_EXPORTS,
    extensions=Extensions(export_values=endpoints_the_account_has),
    description="An Azure Storage account: blob, queue, table and file services under one name.",
)

BLOB_SERVICE = ResourceKind(
    group=GROUP,
    kind="StorageAccountsBlobService",
    plural="storageaccountsblobservices",
    arm_type="Microsoft.Storage/storageAccounts/blobServices",
    owner=OwnerKind(group=GROUP, kind="StorageAccount"),
    versions=VERSIONS,
    storage_version=HUB,
    schema_package=PACKAGE,
    azure_name="default",
    extensions=SERVICE_SETTINGS,
    description="The blob service settings of an account (the singleton 'default').",
)

BLOB_CONTAINER = ResourceKind(
    group=GROUP,
    kind="StorageAccountsBlobServicesContainer",
    plural="storageaccountsblobservicescontainers",
    arm_type="Microsoft.Storage/storageAccounts/blobServices/containers",
    owner=OwnerKind(group=GROUP, kind="StorageAccountsBlobService"),
    versions=VERSIONS,
    storage_version=HUB,
    schema_package=PACKAGE,
    name_rule=CONTAINER_NAME,
    description="A blob container.",
)

QUEUE_SERVICE = ResourceKind(
    group=GROUP,
    kind="StorageAccountsQueueService",
    plural="storageaccountsqueueservices",
    arm_type="Microsoft.Storage/storageAccounts/queueServices",
    owner=OwnerKind(group=GROUP, kind="StorageAccount"),
    versions=VERSIONS,
    storage_version=HUB,
    schema_package=PACKAGE,
    azure_name="default",
    extensions=SERVICE_SETTINGS,
    description="The queue service settings of an account (the singleton 'default').",
)

QUEUE = ResourceKind(
    group=GROUP,
    kind="StorageAccountsQueueServicesQueue",
    plural="storageaccountsqueueservicesqueues",
    arm_type="Microsoft.Storage/storageAccounts/queueServices/queues",
    owner=OwnerKind(group=GROUP, kind="StorageAccountsQueueService"),
    versions=VERSIONS,
    storage_version=HUB,
    schema_package=PACKAGE,
    name_rule=QUEUE_NAME,
    description="A storage queue.",
)

MANAGEMENT_POLICY = ResourceKind(
    group=GROUP,
    kind="StorageAccountsManagementPolicy",
    plural="storageaccountsmanagementpolicies",
    arm_type="Microsoft.Storage/storageAccounts/managementPolicies",
    owner=OwnerKind(group=GROUP, kind="StorageAccount"),
    versions=VERSIONS,
    storage_version=HUB,
    schema_package=PACKAGE,
    azure_name="default",
    description="The blob lifecycle management policy of an account (the singleton 'default').",
)

KINDS = (STORAGE_ACCOUNT, BLOB_SERVICE, BLOB_CONTAINER, QUEUE_SERVICE, QUEUE, MANAGEMENT_POLICY)


@hookimpl
def aso_register_kinds() -> Sequence[ResourceKind]:
    return list(KINDS)
