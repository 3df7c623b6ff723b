"""Cosmos DB (``documentdb.azure.com``): database accounts, SQL databases and containers, MongoDB
databases and collections, and the throughput settings of each, as ASO v2 serves them."""

from __future__ import annotations

from collections.abc import Sequence

from aso import Export, KindVersion, NameRule, OwnerKind, ResourceKind, Scope, hookimpl

GROUP = "documentdb.azure.com"
SCHEMAS = "aso_cosmosdb"
ACCOUNTS = "Microsoft.DocumentDB/databaseAccounts"

#: Both versions of every kind; ASO v2 stores v1api20240815storage, so v1api20240815 is the hub.
VERSIONS = (
    KindVersion(name="v1api20231115", arm_api_version="2023-11-15"),
    KindVersion(name="v1api20240815", arm_api_version="2024-08-15"),
)
HUB = "v1api20240815"

#: ASO's rule for account names (its CRD: 3-50 characters, lower-case letters and digits in groups
#: joined by single hyphens). Azure holds names to 44 characters and answers a longer one itself.
ACCOUNT_NAME = NameRule(
    min_length=3,
    max_length=50,
    pattern=r"[a-z0-9]+(-[a-z0-9]+)*",
    description="3-50 lower-case letters and digits, single hyphens between them",
)

#: The keys come from POST listKeys (master keys) and POST readonlykeys (read-only keys); the
#: endpoint from the account itself, as a Secret or a ConfigMap, as the user chooses.
ACCOUNT_EXPORTS = (
    Export(name="primaryMasterKey", secret=True, action="listKeys", path="primaryMasterKey"),
    Export(name="secondaryMasterKey", secret=True, action="listKeys", path="secondaryMasterKey"),
    Export(
        name="primaryReadonlyMasterKey", secret=True, action="readonlykeys", path="primaryReadonlyMasterKey"
    ),
    Export(
        name="secondaryReadonlyMasterKey",
        secret=True,
        action="readonlykeys",
        path="secondaryReadonlyMasterKey",
    ),
    Export(name="documentEndpoint", secret=True, path="properties.documentEndpoint"),
    Export(name="documentEndpoint", secret=False, path="properties.documentEndpoint"),
)


#: Cosmos DB answers a database or container (and a throughput setting) with ``properties.resource``
#: only: the ``options`` (throughput at creation), ``location`` and ``tags`` sent are not returned
#: (Test_CosmosDB_SQLDatabase_CRUD). They are sent and never taken for drift; throughput changes go
#: through the throughput setting kinds, as in Azure.
CHILD_WRITE_ONLY = ("properties.options", "location", "tags")


def _child(
    kind: str, plural: str, arm_type: str, owner: str, description: str, azure_name: str | None = None
) -> ResourceKind:
    return ResourceKind(
        group=GROUP,
        kind=kind,
        plural=plural,
        arm_type=arm_type,
        owner=OwnerKind(group=GROUP, kind=owner),
        versions=VERSIONS,
        storage_version=HUB,
        schema_package=SCHEMAS,
        azure_name=azure_name,
        write_only=CHILD_WRITE_ONLY,
        description=description,
    )


DATABASE_ACCOUNT = ResourceKind(
    group=GROUP,
    kind="DatabaseAccount",
    plural="databaseaccounts",
    arm_type=ACCOUNTS,
    owner=Scope.RESOURCE_GROUP,
    versions=VERSIONS,
    storage_version=HUB,
    schema_package=SCHEMAS,
    name_rule=ACCOUNT_NAME,
    exports=ACCOUNT_EXPORTS,
    description="A Cosmos DB account (kind GlobalDocumentDB for the SQL API, MongoDB for the MongoDB API).",
)
SQL_DATABASE = _child(
    "SqlDatabase",
    "sqldatabases",
    f"{ACCOUNTS}/sqlDatabases",
    "DatabaseAccount",
    "A SQL (NoSQL API) database of a Cosmos DB account.",
)
SQL_DATABASE_CONTAINER = _child(
    "SqlDatabaseContainer",
    "sqldatabasecontainers",
    f"{ACCOUNTS}/sqlDatabases/containers",
    "SqlDatabase",
    "A container of a Cosmos DB SQL database.",
)
SQL_DATABASE_THROUGHPUT_SETTING = _child(
    "SqlDatabaseThroughputSetting",
    "sqldatabasethroughputsettings",
    f"{ACCOUNTS}/sqlDatabases/throughputSettings",
    "SqlDatabase",
    "The throughput (manual or autoscale) of a Cosmos DB SQL database: the singleton 'default'.",
    azure_name="default",
)
SQL_DATABASE_CONTAINER_THROUGHPUT_SETTING = _child(
    "SqlDatabaseContainerThroughputSetting",
    "sqldatabasecontainerthroughputsettings",
    f"{ACCOUNTS}/sqlDatabases/containers/throughputSettings",
    "SqlDatabaseContainer",
    "The throughput (manual or autoscale) of a Cosmos DB SQL container: the singleton 'default'.",
    azure_name="default",
)
MONGODB_DATABASE = _child(
    "MongodbDatabase",
    "mongodbdatabases",
    f"{ACCOUNTS}/mongodbDatabases",
    "DatabaseAccount",
    "A database of a Cosmos DB account for the MongoDB API.",
)
MONGODB_DATABASE_COLLECTION = _child(
    "MongodbDatabaseCollection",
    "mongodbdatabasecollections",
    f"{ACCOUNTS}/mongodbDatabases/collections",
    "MongodbDatabase",
    "A collection of a Cosmos DB MongoDB database.",
)

MONGODB_DATABASE_THROUGHPUT_SETTING = _child(
    "MongodbDatabaseThroughputSetting",
    "mongodbdatabasethroughputsettings",
    f"{ACCOUNTS}/mongodbDatabases/throughputSettings",
    "MongodbDatabase",
    "The throughput (manual or autoscale) of a Cosmos DB MongoDB database: the singleton 'default'.",
    azure_name="default",
)
MONGODB_DATABASE_COLLECTION_THROUGHPUT_SETTING = _child(
    "MongodbDatabaseCollectionThroughputSetting",
    "mongodbdatabasecollectionthroughputsettings",
    f"{ACCOUNTS}/mongodbDatabases/collections/throughputSettings",
    "MongodbDatabaseCollection",
    "The throughput (manual or autoscale) of a Cosmos DB MongoDB collection: the singleton 'default'.",
    azure_name="default",
)

KINDS = (
    DATABASE_ACCOUNT,
    SQL_DATABASE,
    SQL_DATABASE_CONTAINER,
    SQL_DATABASE_THROUGHPUT_SETTING,
    SQL_DATABASE_CONTAINER_THROUGHPUT_SETTING,
    MONGODB_DATABASE,
    MONGODB_DATABASE_COLLECTION,
    MONGODB_DATABASE_THROUGHPUT_SETTING,
    MONGODB_DATABASE_COLLECTION_THROUGHPUT_SETTING,
)


@hookimpl
def aso_register_kinds() -> Sequence[ResourceKind]:
    return list(KINDS)
