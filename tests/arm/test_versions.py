"""Profiles per API version and per variant, busy resources, children of a missing parent,
and types without a profile (ARM's generic resource)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from aso.armprofiles import ArmLro, ArmProfile, ArmVariant, ArmVersion
from aso.testing.arm import ArmEmulatorHandle, ArmHttp

from .conftest import unique

REDIS = "Microsoft.Cache/redis"
PREMIUM = {"sku": {"name": "Premium", "family": "P", "capacity": 1}}


def wait_redis(arm_http: ArmHttp, rid: str, api: str) -> dict[str, Any]:
    """Poll a cache (ARM's "201 + provisioningState" pattern) until it is no longer Creating."""
    for _ in range(20):
        body: dict[str, Any] = arm_http.call("GET", rid, api).json()
        if body["properties"]["provisioningState"] not in ("Creating", "Updating"):
            return body
    raise AssertionError(f"{rid} never finished")


def _redis(rg: str) -> str:
    return f"{rg}/providers/{REDIS}/{unique('redis')}"


def _caches_to_link(arm_http: ArmHttp, rg: str, api: str) -> tuple[str, str, str, dict[str, Any]]:
    """Two finished caches, the id of a link from the first to the second, and its PUT body."""
    primary, secondary = _redis(rg), _redis(rg)
    for rid in (primary, secondary):
        arm_http.call("PUT", rid, api, _cache_body())
        wait_redis(arm_http, rid, api)
    link = f"{primary}/linkedServers/{secondary.rsplit('/', 1)[1]}"
    body = {
        "properties": {
            "linkedRedisCacheId": secondary,
            "linkedRedisCacheLocation": "westus2",
            "serverRole": "Secondary",
        }
    }
    return primary, secondary, link, body


def _cache_body(**props: Any) -> dict[str, Any]:
    return {"location": "westus2", "properties": {"redisVersion": "6", **PREMIUM, **props}}


def test_redis_answers_per_api_version(arm_http: ArmHttp, rg: str) -> None:
    old = _redis(rg)
    arm_http.call("PUT", old, "2020-12-01", _cache_body())
    body = wait_redis(arm_http, old, "2020-12-01")["properties"]
    assert body["redisVersion"] == "6.0.14"
    assert "updateChannel" not in body
    assert "disableAccessKeyAuthentication" not in body

    mid = _redis(rg)
    arm_http.call("PUT", mid, "2023-08-01", _cache_body())
    body = wait_redis(arm_http, mid, "2023-08-01")["properties"]
    assert body["redisVersion"] == "6.0"
    assert body["updateChannel"] == "Stable"
    assert "zonalAllocationPolicy" not in body

    new = _redis(rg)
    arm_http.call("PUT", new, "2024-11-01", _cache_body())
    body = wait_redis(arm_http, new, "2024-11-01")["properties"]
    assert body["disableAccessKeyAuthentication"] is False
    assert body["zonalAllocationPolicy"] == "Automatic"
    assert body["replicasPerMaster"] == body["replicasPerPrimary"] == 1
    assert body["updateChannel"] == "Stable"


def test_linked_server_completes_per_api_version(arm_http: ArmHttp, rg: str) -> None:
    _, _, link, body = _caches_to_link(arm_http, rg, "2020-12-01")
    made = arm_http.call("PUT", link, "2020-12-01", body)
    assert made.status_code == 201
    assert "Azure-AsyncOperation" not in made.headers
    assert "Location" not in made.headers
    gone = arm_http.call("DELETE", link, "2020-12-01")
    assert gone.status_code == 204
    # The 2023-08-01 provider runs both as operations.
    made = arm_http.call("PUT", link, "2023-08-01", body)
    assert made.status_code == 201
    assert "Azure-AsyncOperation" in made.headers


def test_cosmos_mongodb_accounts_are_shaped_as_mongodb(arm_http: ArmHttp, rg: str) -> None:
    api = "2021-05-15"
    rid = f"{rg}/providers/Microsoft.DocumentDB/databaseAccounts/{unique('mongo')}"
    body = {
        "location": "westus2",
        "kind": "MongoDB",
        "properties": {"databaseAccountOfferType": "Standard", "locations": [{"locationName": "westus2"}]},
    }
    arm_http.call("PUT", rid, api, body)
    for _ in range(10):
        got = arm_http.call("GET", rid, api).json()
        if got["properties"]["provisioningState"] == "Succeeded":
            break
    props = got["properties"]
    assert got["kind"] == "MongoDB"
    assert props["EnabledApiTypes"] == "MongoDB"
    assert props["mongoEndpoint"].startswith("https://")
    assert props["apiProperties"] == {"serverVersion": "3.6"}
    assert props["configurationOverrides"] == {"EnableBsonSchema": "True"}
    assert props["sqlEndpoint"].startswith("https://")  # Azure answers both endpoints
    sql = f"{rg}/providers/Microsoft.DocumentDB/databaseAccounts/{unique('sql')}"
    arm_http.call("PUT", sql, api, {**body, "kind": "GlobalDocumentDB"})
    sql_props = arm_http.call("GET", sql, api).json()["properties"]
    assert sql_props["EnabledApiTypes"] == "Sql"
    assert "sqlEndpoint" in sql_props
    assert "mongoEndpoint" not in sql_props


def test_a_write_while_the_previous_operation_runs_is_refused(arm_http: ArmHttp, rg: str) -> None:
    rid = _redis(rg)
    assert arm_http.call("PUT", rid, "2023-08-01", _cache_body()).status_code == 201
    # The same PUT again is an idempotent retry...
    assert arm_http.call("PUT", rid, "2023-08-01", _cache_body()).status_code in (200, 201)
    # ...another write is refused with the service's code while the cache is being created.
    busy = arm_http.call("PUT", rid, "2023-08-01", _cache_body(enableNonSslPort=True))
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "Conflict"
    patched = arm_http.call("PATCH", rid, "2023-08-01", {"tags": {"a": "b"}})
    assert patched.status_code == 409
    # Deleting a cache that is still being created is allowed, as in Azure.
    assert arm_http.call("DELETE", rid, "2023-08-01").status_code == 202


def test_children_of_a_parent_being_created_are_refused_where_its_profile_says_so(
    arm_emulator_factory: Any,
) -> None:
    lro = {"mode": "async", "create_status": 201, "headers": [], "polls": 2}
    gadgets = {
        "type": "Contoso.Things/gadgets",
        "put": lro,
        "busy": {"code": "Conflict", "message": "'{name}' is busy", "children": True},
    }
    widgets = {"type": "Contoso.Things/widgets", "put": lro}
    emulator = arm_emulator_factory(profiles=(gadgets, widgets))
    arm_http = ArmHttp(emulator)
    rg = f"/subscriptions/{emulator.subscription_id}/resourceGroups/{unique('rg')}"
    assert arm_http.call("PUT", rg, "2021-04-01", {"location": "westus2"}).status_code == 201
    gadget = f"{rg}/providers/Contoso.Things/gadgets/g1"
    assert arm_http.call("PUT", gadget, "2021-01-01", {"location": "westus2"}).status_code == 201
    # While the gadget is being created, every write to its children (at any depth) is refused.
    for method, child in (
        ("PUT", f"{gadget}/parts/p1"),
        ("PUT", f"{gadget}/parts/p1/screws/s1"),
        ("DELETE", f"{gadget}/parts/p0"),
    ):
        refused = arm_http.call(method, child, "2021-01-01", {"properties": {}} if method == "PUT" else None)
        assert (refused.status_code, refused.json()["error"]) == (
            409,
            {"code": "Conflict", "message": "'g1' is busy"},
        )
    assert arm_http.call("GET", f"{gadget}/parts/p1", "2021-01-01").status_code == 404  # reads are fine
    # A type whose profile does not say so keeps ARM's default: its children are written.
    widget = f"{rg}/providers/Contoso.Things/widgets/w1"
    assert arm_http.call("PUT", widget, "2021-01-01", {"location": "westus2"}).status_code == 201
    assert arm_http.call("PUT", f"{widget}/parts/p1", "2021-01-01", {"properties": {}}).status_code in (
        200,
        201,
    )
    # Once the gadget's create has ended (its GETs are the polls), its children are written.
    for _ in range(3):
        state = arm_http.call("GET", gadget, "2021-01-01").json()["properties"]["provisioningState"]
    assert state == "Succeeded"
    assert arm_http.call("PUT", f"{gadget}/parts/p1", "2021-01-01", {"properties": {}}).status_code in (
        200,
        201,
    )


def test_busy_storage_account_answers_storages_operation_in_progress(
    arm_http: ArmHttp, rg: str, arm_emulator: ArmEmulatorHandle
) -> None:
    api = "2023-01-01"
    arm_emulator.control.set_lro(
        "Microsoft.Storage/storageAccounts", "PUT", mode="async", polls=3, headers=["Location"]
    )
    rid = f"{rg}/providers/Microsoft.Storage/storageAccounts/{unique('st').replace('-', '')}"
    body = {"location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}
    assert arm_http.call("PUT", rid, api, body).status_code == 202
    busy = arm_http.call("PUT", rid, api, {**body, "tags": {"x": "y"}})
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "StorageAccountOperationInProgress")


def test_children_of_a_missing_parent(arm_http: ArmHttp, rg: str) -> None:
    account = f"{rg}/providers/Microsoft.Storage/storageAccounts/{unique('st').replace('-', '')}"
    blob = arm_http.call("GET", f"{account}/blobServices/default", "2023-01-01")
    assert (blob.status_code, blob.json()["error"]["code"]) == (404, "ParentResourceNotFound")
    cache = _redis(rg)
    schedule = arm_http.call("GET", f"{cache}/patchSchedules/default", "2023-08-01")
    assert (schedule.status_code, schedule.json()["error"]["code"]) == (404, "ResourceNotFound")


def test_types_without_a_profile_are_arm_generic_resources(
    arm_http: ArmHttp, rg: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = _redis(rg)
    arm_http.call("PUT", cache, "2023-08-01", _cache_body())
    wait_redis(arm_http, cache, "2023-08-01")
    caplog.set_level(logging.INFO, logger="aso.sandbox.arm.server")
    connection = f"{cache}/privateEndpointConnections/endpoint1"
    body = {"properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}
    made = arm_http.call("PUT", connection, "2024-03-01", body)
    assert made.status_code == 201
    assert made.json()["type"] == "Microsoft.Cache/Redis/privateEndpointConnections"
    assert made.json()["properties"] == {"privateLinkServiceConnectionState": {"status": "Approved"}}
    arm_http.call("PUT", connection, "2024-03-01", body)
    logged = [
        r
        for r in caplog.records
        if "privateEndpointConnections" in r.getMessage() and "no profile" in r.getMessage()
    ]
    assert len(logged) <= 1  # once per type (the emulator may have named it in an earlier test)


def test_overrides_are_validated() -> None:
    bad = ArmProfile(
        type="Microsoft.Example/things",
        versions=(ArmVersion(put=ArmLro(mode="sometimes")),),
        variants=(ArmVariant(when={}),),
    )
    problems = bad.problems()
    assert any(p.startswith("versions[0].put.mode") for p in problems)
    assert any(p.startswith("versions[0].since/until") for p in problems)
    assert any(p.startswith("variants[0].when") for p in problems)
    good = ArmProfile(
        type="Microsoft.Example/things",
        defaults={"properties": {"a": 1, "b": 2}},
        versions=(ArmVersion(until="2020-01-01", defaults={"properties": {"a": 0}}, omit=("properties.b",)),),
    )
    assert good.problems() == []
    old = good.resolve("2019-06-01")
    assert old.defaults == {"properties": {"a": 0, "b": 2}}
    assert old.omit == ("properties.b",)
    assert good.resolve("2021-01-01") is good


@pytest.mark.parametrize(
    ("rid_tail", "api", "body", "code"),
    [
        (
            "Microsoft.Storage/storageAccounts/stvalues01",
            "2023-01-01",
            {"location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_XYZ"}},
            "InvalidValuesForRequestParameters",
        ),
        (
            "Microsoft.Storage/storageAccounts/stvalues02",
            "2023-01-01",
            {
                "location": "westus2",
                "kind": "StorageV2",
                "sku": {"name": "Standard_LRS"},
                "properties": {"minimumTlsVersion": "TLS9"},
            },
            "InvalidValuesForRequestParameters",
        ),
        ("Microsoft.Cache/redis/bad--name", "2023-08-01", _cache_body(), "InvalidResourceName"),
        (
            "Microsoft.Cache/redis/redis-capacity",
            "2023-08-01",
            {"location": "westus2", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 9}}},
            "InvalidValuesForRequestParameters",
        ),
        (
            "Microsoft.Sql/servers/Upper-Case",
            "2021-11-01",
            {"location": "westus2", "properties": {}},
            "InvalidServerName",
        ),
        (
            "Microsoft.DocumentDB/databaseAccounts/ab",
            "2021-05-15",
            {"location": "westus2", "properties": {}},
            "InvalidResourceName",
        ),
    ],
)
def test_values_and_names_outside_the_documented_ranges_are_refused(
    arm_http: ArmHttp, rg: str, rid_tail: str, api: str, body: dict[str, Any], code: str
) -> None:
    rid = f"{rg}/providers/{rid_tail}"
    refused = arm_http.call("PUT", rid, api, body)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == code
    assert arm_http.call("GET", rid, api).status_code == 404  # a refused request changes nothing


def test_storage_child_names(arm_http: ArmHttp, rg: str) -> None:
    api = "2023-01-01"
    account = f"{rg}/providers/Microsoft.Storage/storageAccounts/{unique('st').replace('-', '')}"
    arm_http.call(
        "PUT", account, api, {"location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}
    )
    arm_http.call("PUT", f"{account}/blobServices/default", api, {"properties": {}})
    assert arm_http.call("PUT", f"{account}/blobServices/default/containers/$web", api, {}).status_code == 201
    bad = arm_http.call("PUT", f"{account}/blobServices/default/containers/Bad_Name", api, {})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "ContainerOperationFailure")


def test_unlinking_goes_on_after_the_link_is_deleted(arm_http: ArmHttp, rg: str) -> None:
    """Redis 2020-12-01 answers an unlink with 204, then both caches go on unlinking for a while:
    deleting either is refused as "has linked servers" until that ends."""
    api = "2020-12-01"
    primary, secondary, link, body = _caches_to_link(arm_http, rg, api)
    arm_http.call("PUT", link, api, body)
    assert arm_http.call("DELETE", link, api).status_code == 204
    assert arm_http.call("GET", secondary, api).json()["properties"]["provisioningState"] == "Unlinking"
    for rid in (primary, secondary):
        refused = arm_http.call("DELETE", rid, api)
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "BadRequest")
    # Unlinking ends after a while (retries count): then both caches can be deleted.
    for rid in (primary, secondary):
        for _ in range(20):
            answer = arm_http.call("DELETE", rid, api)
            if answer.status_code != 400:
                break
        assert answer.status_code == 202


def test_storage_children_answer_the_services_own_not_found(arm_http: ArmHttp, rg: str) -> None:
    api = "2021-04-01"
    account = f"{rg}/providers/Microsoft.Storage/storageAccounts/{unique('st').replace('-', '')}"
    arm_http.call(
        "PUT", account, api, {"location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}
    )
    arm_http.call("PUT", f"{account}/queueServices/default", api, {})
    arm_http.call("PUT", f"{account}/blobServices/default", api, {})
    for path, code in [
        ("queueServices/default/queues/nosuchqueue", "QueueNotFound"),
        ("blobServices/default/containers/nosuchcontainer", "ContainerNotFound"),
        ("managementPolicies/default", "ManagementPolicyNotFound"),
    ]:
        missing = arm_http.call("GET", f"{account}/{path}", api)
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, code)
