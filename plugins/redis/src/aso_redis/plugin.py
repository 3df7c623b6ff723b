"""Azure Cache for Redis (``cache.azure.com``): caches, their firewall rules, patch schedules and
geo-replication links, with ASO v2's kinds, versions and YAML.

Every kind serves the same five versions; the hub is ``v20241101``, whose storage version
(``v20241101storage``) is the one ASO v2 stores. No property is renamed between the versions, so no
converter is needed: what an older version lacks (``updateChannel``, ``zonalAllocationPolicy``,
``disableAccessKeyAuthentication``, ...) rides in the property bag.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aso import (
    ArmErrorInfo,
    Classification,
    Export,
    Extensions,
    KindVersion,
    NameRule,
    Next,
    OwnerKind,
    ReconcileContext,
    ResourceKind,
    RetryableError,
    Scope,
    hookimpl,
)

GROUP = "cache.azure.com"

#: (Kubernetes version, ARM api-version), oldest first; every kind serves all of them.
VERSIONS: tuple[KindVersion, ...] = (
    KindVersion(name="v1api20201201", arm_api_version="2020-12-01"),
    KindVersion(name="v1api20230401", arm_api_version="2023-04-01"),
    KindVersion(name="v1api20230801", arm_api_version="2023-08-01"),
    KindVersion(name="v20230801", arm_api_version="2023-08-01"),
    KindVersion(name="v20241101", arm_api_version="2024-11-01"),
)
#: ASO v2 stores ``v20241101storage`` for every kind of the group.
HUB = "v20241101"

#: Azure's rule for cache names (``cacheName``): 1-63 letters, digits and single hyphens, starting
#: and ending with a letter or digit. The CRD pattern is RE2 (no look-ahead), so the "no double
#: hyphen" part is spelled as groups of letters/digits joined by single hyphens.
CACHE_NAME_RULE = NameRule(
    min_length=1,
    max_length=63,
    pattern=r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*",
    description="1-63 letters, digits and single hyphens, starting and ending with a letter or digit",
)

#: Values written to the Secret (and, for the endpoint, the ConfigMap) the user names in
#: ``spec.operatorSpec``. The keys come from ``listKeys`` and are read again at every sync, so a
#: key regenerated outside aso is exported again.
REDIS_EXPORTS: tuple[Export, ...] = (
    Export(name="primaryKey", secret=True, action="listKeys", path="primaryKey", description="Key 1"),
    Export(name="secondaryKey", secret=True, action="listKeys", path="secondaryKey", description="Key 2"),
    Export(name="hostName", secret=True, path="properties.hostName", description="Cache host name"),
    Export(name="port", secret=True, path="properties.port", description="Non-TLS port"),
    Export(name="sslPort", secret=True, path="properties.sslPort", description="TLS port"),
    Export(name="hostName", secret=False, path="properties.hostName", description="Cache host name"),
    Export(name="port", secret=False, path="properties.port", description="Non-TLS port"),
    Export(name="sslPort", secret=False, path="properties.sslPort", description="TLS port"),
)


def linked_caches_heal(error: ArmErrorInfo, next: Callable[[], Classification]) -> Classification:
    """Azure refuses to delete a cache that is linked (geo-replication), or still unlinking, with
    400 BadRequest. That heals once the link is deleted (the user deletes the RedisLinkedServer,
    often together with the caches): retry, as a Warning that says what holds the cache."""
    if error.status == 400 and error.code == "BadRequest" and "linked server" in error.message.lower():
        return Classification(retry=True, severity="Warning", reason="LinkedServersExist", delay=5.0)
    return next()


async def delete_links_first(ctx: ReconcileContext, next: Next[None]) -> None:
    """Azure refuses to delete a cache that still has linked servers; they are its children, so a
    delete of the cache deletes them first (as Azure deletes any other child with its parent),
    and comes back for the cache once they are gone."""
    api_version = ctx.api_version.arm_api_version
    links = await ctx.arm.get(f"{ctx.arm_id}/linkedServers", api_version)
    ids = [
        str(item["id"])
        for item in (links or {}).get("value") or []
        if isinstance(item, dict) and item.get("id")
    ]
    if ids:
        for link_id in ids:
            await ctx.arm.delete(link_id, api_version)
        raise RetryableError(
            f"deleting the linked servers of the cache first: {', '.join(ids)}",
            reason="DeletingLinkedServers",
            delay=5.0,
        )
    await next()


async def latest_is_what_azure_chose(ctx: ReconcileContext, next: Next[dict[str, Any]]) -> dict[str, Any]:
    """``redisVersion: latest`` picks a version when the cache is created; Azure answers that
    version from then on. For an existing cache the body says the version Azure answers, so that
    "latest" is no drift (and an update never asks for an upgrade the user did not write)."""
    body = await next()
    properties = body.get("properties")
    if isinstance(properties, dict) and str(properties.get("redisVersion", "")).lower() == "latest":
        current = await ctx.arm.get(ctx.arm_id, ctx.api_version.arm_api_version)
        answered = ((current or {}).get("properties") or {}).get("redisVersion")
        if isinstance(answered, str) and answered:
            properties["redisVersion"] = answered
    return body


REDIS = ResourceKind(
    group=GROUP,
    kind="Redis",
    plural="redis",
    arm_type="Microsoft.Cache/redis",
    owner=Scope.RESOURCE_GROUP,
    versions=VERSIONS,
    storage_version=HUB,
    schema_package="aso_redis",
    name_rule=CACHE_NAME_RULE,
    exports=REDIS_EXPORTS,
    extensions=Extensions(
        arm_body=latest_is_what_azure_chose, classify_error=linked_caches_heal, delete=delete_links_first
    ),
    description="An Azure Cache for Redis instance.",
)

_CACHE = OwnerKind(group=GROUP, kind="Redis")

REDIS_FIREWALL_RULE = ResourceKind(
    group=GROUP,
    kind="RedisFirewallRule",
    plural="redisfirewallrules",
    arm_type="Microsoft.Cache/redis/firewallRules",
    owner=_CACHE,
    versions=VERSIONS,
    storage_version=HUB,
    schema_package="aso_redis",
    # Azure: letters, digits and underscores (the ruleName parameter).
    name_rule=NameRule(
        min_length=1,
        max_length=256,
        pattern=r"[A-Za-z0-9_]+",
        description="letters, digits and '_'",
    ),
    description="A range of client IP addresses allowed to connect to a cache.",
)

REDIS_PATCH_SCHEDULE = ResourceKind(
    group=GROUP,
    kind="RedisPatchSchedule",
    plural="redispatchschedules",
    arm_type="Microsoft.Cache/redis/patchSchedules",
    owner=_CACHE,
    versions=VERSIONS,
    storage_version=HUB,
    schema_package="aso_redis",
    # A cache has one schedule, always called "default".
    azure_name="default",
    description="The weekly windows in which Azure may patch a cache.",
)

REDIS_LINKED_SERVER = ResourceKind(
    group=GROUP,
    kind="RedisLinkedServer",
    plural="redislinkedservers",
    arm_type="Microsoft.Cache/redis/linkedServers",
    owner=_CACHE,
    versions=VERSIONS,
    storage_version=HUB,
    schema_package="aso_redis",
    # The link is named after the linked (secondary) cache.
    name_rule=CACHE_NAME_RULE,
    description="A geo-replication link from a primary cache to a secondary cache.",
)

KINDS: tuple[ResourceKind, ...] = (REDIS, REDIS_FIREWALL_RULE, REDIS_PATCH_SCHEDULE, REDIS_LINKED_SERVER)


@hookimpl
def aso_register_kinds() -> Sequence[ResourceKind]:
    return list(KINDS)
