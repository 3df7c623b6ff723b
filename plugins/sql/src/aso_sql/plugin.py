"""Declares the Azure SQL kinds of ``sql.azure.com``: servers, their databases, Azure AD
administrators, firewall rules and the Azure-AD-only authentication setting."""

from __future__ import annotations

from collections.abc import Sequence

from aso import Export, KindVersion, NameRule, OwnerKind, ResourceKind, Scope, hookimpl

GROUP = "sql.azure.com"
#: The API version every kind serves, under ASO v2's two names for it.
VERSIONS = (
    KindVersion(name="v1api20211101", arm_api_version="2021-11-01"),
    KindVersion(name="v20211101", arm_api_version="2021-11-01"),
)
#: ASO v2 stores SQL objects in the newer spelling's storage version (v20211101storage).
STORAGE_VERSION = "v20211101"
SERVER_OWNER = OwnerKind(group=GROUP, kind="Server")

SERVER = ResourceKind(
    group=GROUP,
    kind="Server",
    plural="servers",
    arm_type="Microsoft.Sql/servers",
    owner=Scope.RESOURCE_GROUP,
    versions=VERSIONS,
    storage_version=STORAGE_VERSION,
    schema_package="aso_sql",
    # No name_rule here: ARM refuses a bad server name itself (400 InvalidServerName, which the
    # emulator's profile knows), and that code is what the object's Ready condition shows.
    exports=(
        Export(
            name="fullyQualifiedDomainName",
            secret=False,
            path="properties.fullyQualifiedDomainName",
            description="The server's host name (<name>.database.windows.net).",
        ),
    ),
    description="An Azure SQL logical server.",
)

SERVERS_DATABASE = ResourceKind(
    group=GROUP,
    kind="ServersDatabase",
    plural="serversdatabases",
    arm_type="Microsoft.Sql/servers/databases",
    owner=SERVER_OWNER,
    versions=VERSIONS,
    storage_version=STORAGE_VERSION,
    schema_package="aso_sql",
    name_rule=NameRule(
        min_length=1,
        max_length=128,
        pattern=r"[^<>*%&:\\/?]*[^<>*%&:\\/?. ]",
        description="1-128 characters, none of <>*%&:\\/?, not ending with '.' or a space",
    ),
    description="A database of an Azure SQL server.",
)

SERVERS_ADMINISTRATOR = ResourceKind(
    group=GROUP,
    kind="ServersAdministrator",
    plural="serversadministrators",
    arm_type="Microsoft.Sql/servers/administrators",
    owner=SERVER_OWNER,
    versions=VERSIONS,
    storage_version=STORAGE_VERSION,
    schema_package="aso_sql",
    azure_name="ActiveDirectory",
    description="The Azure Active Directory administrator of an Azure SQL server (one per server).",
)

SERVERS_FIREWALL_RULE = ResourceKind(
    group=GROUP,
    kind="ServersFirewallRule",
    plural="serversfirewallrules",
    arm_type="Microsoft.Sql/servers/firewallRules",
    owner=SERVER_OWNER,
    versions=VERSIONS,
    storage_version=STORAGE_VERSION,
    schema_package="aso_sql",
    name_rule=NameRule(
        min_length=1,
        max_length=128,
        pattern=r"[^<>*%&:;\\/?]*[^<>*%&:;\\/?.]",
        description="1-128 characters, none of <>*%&:;\\/?, not ending with '.'",
    ),
    description="An IPv4 firewall rule of an Azure SQL server.",
)

SERVERS_AZURE_AD_ONLY_AUTHENTICATION = ResourceKind(
    group=GROUP,
    kind="ServersAzureADOnlyAuthentication",
    plural="serversazureadonlyauthentications",
    arm_type="Microsoft.Sql/servers/azureADOnlyAuthentications",
    owner=SERVER_OWNER,
    versions=VERSIONS,
    storage_version=STORAGE_VERSION,
    schema_package="aso_sql",
    azure_name="Default",
    description="Whether an Azure SQL server accepts Azure Active Directory logins only (one per server).",
)

KINDS = (
    SERVER,
    SERVERS_DATABASE,
    SERVERS_ADMINISTRATOR,
    SERVERS_FIREWALL_RULE,
    SERVERS_AZURE_AD_ONLY_AUTHENTICATION,
)


@hookimpl
def aso_register_kinds() -> Sequence[ResourceKind]:
    return list(KINDS)
