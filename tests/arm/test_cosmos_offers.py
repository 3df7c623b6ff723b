"""Cosmos DB rules learned from ASO v2's Test_CosmosDB_SQLDatabase_CRUD and
Test_CosmosDB_MongoDatabase_CRUD (API 2021-05-15): what a throughput offer reports in each mode,
and the bodies of MongoDB databases and collections."""

from __future__ import annotations

from typing import Any

import pytest
from azure.mgmt.resource.resources import ResourceManagementClient

from aso import ArmProfile, ArmVariant
from aso.testing.arm import ArmHttp

API = "2021-05-15"


@pytest.fixture
def account(rm: ResourceManagementClient) -> str:
    group = rm.resource_groups.create_or_update("cosmos-offers", {"location": "westus2"})
    rid = f"{group.id}/providers/Microsoft.DocumentDB/databaseAccounts/offers0001"
    body = {
        "kind": "MongoDB",
        "location": "westus2",
        "properties": {
            "capabilities": [{"name": "EnableMongo"}],
            "databaseAccountOfferType": "Standard",
            "locations": [{"locationName": "westus2"}],
        },
    }
    rm.resources.begin_create_or_update_by_id(rid, body, api_version=API).result()
    return rid


def _put(rm: ResourceManagementClient, rid: str, body: dict[str, Any]) -> None:
    rm.resources.begin_create_or_update_by_id(rid, body, api_version=API).result()


def test_an_autoscale_offer_reports_400_rus_and_a_minimum_of_1000(
    rm: ResourceManagementClient, arm_http: ArmHttp, account: str
) -> None:
    db = f"{account}/mongodbDatabases/db1"
    _put(rm, db, {"location": "westus2", "properties": {"resource": {"id": "db1"}}})
    offer = f"{db}/throughputSettings/default"
    _put(rm, offer, {"properties": {"resource": {"autoscaleSettings": {"maxThroughput": 5000}}}})
    got = arm_http.call("GET", offer, API).json()["properties"]["resource"]
    assert got == {
        "throughput": 400,
        "autoscaleSettings": {"maxThroughput": 5000},
        "minimumThroughput": "1000",
    }
    # Back to manual throughput: what was set, and the manual minimum.
    _put(rm, offer, {"properties": {"resource": {"throughput": 700}}})
    got = arm_http.call("GET", offer, API).json()["properties"]["resource"]
    assert got == {"throughput": 700, "minimumThroughput": "400"}


def test_a_manual_offer_reports_what_was_set_and_a_minimum_of_400(
    rm: ResourceManagementClient, arm_http: ArmHttp, account: str
) -> None:
    coll = f"{account}/mongodbDatabases/db1/collections/c1"
    _put(rm, f"{account}/mongodbDatabases/db1", {"properties": {"resource": {"id": "db1"}}})
    _put(rm, coll, {"properties": {"resource": {"id": "c1"}, "options": {"throughput": 400}}})
    offer = f"{coll}/throughputSettings/default"
    _put(rm, offer, {"properties": {"resource": {"throughput": 500}}})
    assert arm_http.call("GET", offer, API).json()["properties"]["resource"] == {
        "throughput": 500,
        "minimumThroughput": "400",
    }


def test_mongodb_databases_and_collections_carry_no_sql_system_properties(
    rm: ResourceManagementClient, arm_http: ArmHttp, account: str
) -> None:
    db = f"{account}/mongodbDatabases/db1"
    _put(
        rm,
        db,
        {"location": "westus2", "properties": {"resource": {"id": "db1"}, "options": {"throughput": 400}}},
    )
    coll = f"{db}/collections/c1"
    index = [{"key": {"keys": ["col1"]}}]
    _put(rm, coll, {"location": "westus2", "properties": {"resource": {"id": "c1", "indexes": index}}})
    assert arm_http.call("GET", db, API).json()["properties"] == {"resource": {"id": "db1"}}
    assert arm_http.call("GET", coll, API).json()["properties"] == {
        "resource": {"id": "c1", "indexes": index}
    }


def test_a_variant_needs_a_condition() -> None:
    bad = ArmProfile(type="Microsoft.Example/things", variants=(ArmVariant(),))
    assert any(p.startswith("variants[0].when/present") for p in bad.problems())
    good = ArmProfile(type="Microsoft.Example/things", variants=(ArmVariant(present=("properties.a",)),))
    assert good.problems() == []
    assert good.variants[0].applies({"properties": {"a": 1}})
    assert not good.variants[0].applies({"properties": {}})


def _range_message(low: int, step: int) -> str:
    return (
        'Message: {"Errors":["The offer should have valid throughput values between '
        f'{low} and 1000000 inclusive in increments of {step}."]' + "}"
    )


@pytest.mark.parametrize(
    ("resource", "low", "step"),
    [
        ({"throughput": 300}, 400, 100),
        ({"throughput": 450}, 400, 100),
        ({"throughput": 2000000}, 400, 100),
        ({"autoscaleSettings": {"maxThroughput": 500}}, 1000, 1000),
        ({"autoscaleSettings": {"maxThroughput": 4500}}, 1000, 1000),
    ],
)
def test_throughput_outside_cosmos_dbs_range_or_steps_is_refused_with_its_message(
    rm: ResourceManagementClient,
    arm_http: ArmHttp,
    account: str,
    resource: dict[str, Any],
    low: int,
    step: int,
) -> None:
    db = f"{account}/mongodbDatabases/db1"
    _put(rm, db, {"properties": {"resource": {"id": "db1"}}})
    refused = arm_http.call(
        "PUT", f"{db}/throughputSettings/default", API, {"properties": {"resource": resource}}
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == {"code": "BadRequest", "message": _range_message(low, step)}
    # The same range for throughput sent with a new database (`options`).
    options = {"properties": {"resource": {"id": "db2"}, "options": resource}}
    refused = arm_http.call("PUT", f"{account}/mongodbDatabases/db2", API, options)
    assert refused.status_code == 400
    assert refused.json()["error"] == {"code": "BadRequest", "message": _range_message(low, step)}


def test_sql_api_resources_carry_the_system_properties_of_their_kind(
    rm: ResourceManagementClient, arm_http: ArmHttp
) -> None:
    group = rm.resource_groups.create_or_update("cosmos-sql", {"location": "westus2"})
    account = f"{group.id}/providers/Microsoft.DocumentDB/databaseAccounts/sqlapi0001"
    body = {"location": "westus2", "properties": {"databaseAccountOfferType": "Standard", "locations": []}}
    _put(rm, account, body)
    db = f"{account}/sqlDatabases/db1"
    _put(rm, db, {"properties": {"resource": {"id": "db1"}}})
    container = f"{db}/containers/c1"
    _put(rm, container, {"properties": {"resource": {"id": "c1", "partitionKey": {"paths": ["/pk"]}}}})
    sproc = f"{container}/storedProcedures/p1"
    _put(rm, sproc, {"properties": {"resource": {"id": "p1", "body": "function () {}"}}})
    system = {"_rid", "_self", "_etag", "_ts"}
    got = arm_http.call("GET", db, API).json()["properties"]["resource"]
    assert set(got) == {"id", *system, "_colls", "_users"}
    got = arm_http.call("GET", container, API).json()["properties"]["resource"]
    assert {*system, "_docs", "_sprocs", "_triggers", "_udfs", "_conflicts", "statistics"} <= set(got)
    assert got["statistics"] == [
        {
            "id": "0",
            "sizeInKB": 0,
            "documentCount": 0,
            "sampledDistinctPartitionKeyCount": 0,
            "partitionKeys": [],
        }
    ]
    assert set(arm_http.call("GET", sproc, API).json()["properties"]["resource"]) == {"id", "body", *system}
