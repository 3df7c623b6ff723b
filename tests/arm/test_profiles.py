"""Provider profiles: defaults, normalisation, name rules, uniqueness, actions, entry points."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resource.resources import ResourceManagementClient

from aso import ArmLro, ArmProfile, ArmRefusal, ArmValueRule, hookimpl
from aso.sandbox.arm.profiles import ProfileRegistry, plugin_profiles
from aso.testing.arm import ArmEmulatorHandle, ArmHttp

from .conftest import error_code, props, unique

STORAGE = "2023-01-01"
REDIS = "2023-08-01"


def test_storage_account(
    rm: ResourceManagementClient, rg: str, arm_http: ArmHttp, arm_emulator: ArmEmulatorHandle
) -> None:
    name = unique("st").replace("-", "")
    rid = f"{rg}/providers/Microsoft.Storage/storageAccounts/{name}"
    body = {"location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "tags": None}
    first = arm_http.call("PUT", rid, STORAGE, body)
    assert first.status_code == 202
    assert "Location" in first.headers
    assert "Azure-AsyncOperation" not in first.headers
    account = rm.resources.begin_create_or_update_by_id(rid, body, api_version=STORAGE).result()
    assert props(account)["primaryEndpoints"]["blob"] == f"https://{name}.blob.core.windows.net/"
    assert props(account)["provisioningState"] == "Succeeded"
    assert account.tags == {}
    assert account.sku is not None
    assert account.sku.tier == "Standard"
    # Read-only values are the server's, whatever the client sends.
    body2 = {**body, "properties": {"primaryEndpoints": {"blob": "https://evil/"}}}
    again = arm_http.call("PUT", rid, STORAGE, body2)
    assert again.status_code == 200  # updates are synchronous
    assert again.json()["properties"]["primaryEndpoints"]["blob"].startswith(f"https://{name}.")
    keys = arm_http.call("POST", f"{rid}/listKeys", STORAGE).json()["keys"]
    assert [k["keyName"] for k in keys] == ["key1", "key2"]
    regenerated = arm_http.call("POST", f"{rid}/regenerateKey", STORAGE, {"keyName": "key1"}).json()["keys"]
    assert regenerated[0]["value"] != keys[0]["value"]
    assert regenerated[1]["value"] == keys[1]["value"]
    moved = arm_http.call("PUT", rid, STORAGE, {**body, "location": "eastus"})
    assert moved.status_code == 400
    assert moved.json()["error"]["code"] == "InvalidResourceLocation"


def test_storage_account_names(
    rm: ResourceManagementClient, arm_http: ArmHttp, arm_emulator: ArmEmulatorHandle
) -> None:
    rg1 = rm.resource_groups.create_or_update(unique("rg"), {"location": "westus2"}).id
    rg2 = rm.resource_groups.create_or_update(unique("rg"), {"location": "westus2"}).id
    bad = arm_http.call(
        "PUT",
        f"{rg1}/providers/Microsoft.Storage/storageAccounts/Not_Valid",
        STORAGE,
        {"location": "westus2"},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "AccountNameInvalid"
    name = unique("uniq").replace("-", "")
    assert arm_http.call(
        "PUT", f"{rg1}/providers/Microsoft.Storage/storageAccounts/{name}", STORAGE, {"location": "westus2"}
    ).ok
    taken = arm_http.call(
        "PUT", f"{rg2}/providers/Microsoft.Storage/storageAccounts/{name}", STORAGE, {"location": "westus2"}
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "StorageAccountAlreadyTaken"


def test_redis_normalisation_and_keys(
    rm: ResourceManagementClient, rg: str, arm_http: ArmHttp, arm_emulator: ArmEmulatorHandle
) -> None:
    rid = f"{rg}/providers/Microsoft.Cache/redis/{unique('cache')}"
    body = {
        "location": "westus2",
        "properties": {"redisVersion": "6", "sku": {"name": "Premium", "family": "P", "capacity": 1}},
    }
    created = arm_http.call("PUT", rid, REDIS, body)
    assert created.status_code == 201
    assert created.json()["properties"]["provisioningState"] == "Creating"
    # A create takes several reads (each GET is a poll of the creation).
    answers = [arm_http.call("GET", rid, REDIS) for _ in range(4)]
    reads = [a.json() for a in answers]
    assert [r["properties"]["provisioningState"] for r in reads] == ["Creating"] * 3 + ["Succeeded"]
    # While it is creating, each read says when to read again (the test emulator: at once).
    assert [a.headers.get("Retry-After") for a in answers] == ["0", "0", "0", None]
    cache = reads[-1]
    assert cache["location"] == "West US 2"
    assert cache["type"] == "Microsoft.Cache/Redis"
    props = cache["properties"]
    assert props["provisioningState"] == "Succeeded"
    assert props["redisVersion"] == "6.0"
    assert (props["port"], props["sslPort"], props["accessKeys"]) == (6379, 6380, None)
    assert props["hostName"].endswith(".redis.cache.windows.net")
    # Same region written either way is not a location change.
    assert arm_http.call("PUT", rid, REDIS, {**body, "location": "West US 2"}).status_code == 200
    keys = arm_http.call("POST", f"{rid}/listKeys", REDIS).json()
    assert set(keys) == {"primaryKey", "secondaryKey"}
    new = arm_http.call("POST", f"{rid}/regenerateKey", REDIS, {"keyType": "Secondary"}).json()
    assert new["primaryKey"] == keys["primaryKey"]
    assert new["secondaryKey"] != keys["secondaryKey"]


def test_redis_with_linked_server_cannot_be_deleted(rg: str, arm_http: ArmHttp) -> None:
    body = {"location": "westus2", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 1}}}
    primary = f"{rg}/providers/Microsoft.Cache/redis/{unique('p')}"
    secondary = f"{rg}/providers/Microsoft.Cache/redis/{unique('s')}"
    arm_http.call("PUT", primary, REDIS, body)
    arm_http.call("PUT", secondary, REDIS, body)
    link_path = f"{primary}/linkedServers/{secondary.rsplit('/', 1)[1]}"
    # A cache that is still being created refuses writes to its children.
    early = arm_http.call("PUT", link_path, REDIS, {"properties": {"linkedRedisCacheId": secondary}})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "Conflict")
    for cache in (primary, secondary):  # each GET is a poll of the creation
        states = [
            arm_http.call("GET", cache, REDIS).json()["properties"]["provisioningState"] for _ in range(4)
        ]
        assert states[-1] == "Succeeded"
    link = arm_http.call(
        "PUT",
        f"{primary}/linkedServers/{secondary.rsplit('/', 1)[1]}",
        REDIS,
        {
            "properties": {
                "linkedRedisCacheId": secondary,
                "linkedRedisCacheLocation": "westus2",
                "serverRole": "Secondary",
            }
        },
    )
    assert link.status_code == 201
    assert "Azure-AsyncOperation" in link.headers
    assert link.json()["properties"]["linkedRedisCacheLocation"] == "West US 2"
    for cache in (primary, secondary):
        refused = arm_http.call("DELETE", cache, REDIS)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "BadRequest"


def test_sql_server_hides_the_password(rm: ResourceManagementClient, rg: str, arm_http: ArmHttp) -> None:
    rid = f"{rg}/providers/Microsoft.Sql/servers/{unique('sql')}"
    body = {
        "location": "westus2",
        "properties": {"administratorLogin": "me", "administratorLoginPassword": "pw"},
    }
    accepted = arm_http.call("PUT", rid, "2021-11-01", body)
    assert accepted.status_code == 202
    assert set(accepted.json()) == {"operation", "startTime"}
    server = rm.resources.begin_create_or_update_by_id(rid, body, api_version="2021-11-01").result()
    assert "administratorLoginPassword" not in props(server)
    assert props(server)["fullyQualifiedDomainName"] == f"{rid.rsplit('/', 1)[1]}.database.windows.net"
    assert "provisioningState" not in props(server)


def test_cosmos_children_keep_only_the_resource(
    rm: ResourceManagementClient, rg: str, arm_http: ArmHttp
) -> None:
    api = "2021-05-15"
    account = f"{rg}/providers/Microsoft.DocumentDB/databaseAccounts/{unique('cosmos')}"
    made = rm.resources.begin_create_or_update_by_id(
        account,
        {"location": "westus2", "properties": {"databaseAccountOfferType": "Standard"}},
        api_version=api,
    ).result()
    assert props(made)["documentEndpoint"].startswith("https://")
    db = rm.resources.begin_create_or_update_by_id(
        f"{account}/sqlDatabases/db1",
        {"location": "westus2", "properties": {"options": {"throughput": 400}, "resource": {"id": "db1"}}},
        api_version=api,
    ).result()
    assert set(props(db)) == {"resource"}
    assert props(db)["resource"]["id"] == "db1"
    keys = arm_http.call("POST", f"{account}/listKeys", api).json()
    assert {"primaryMasterKey", "secondaryMasterKey"} <= set(keys)


def test_unknown_types_fall_back_to_generic(rm: ResourceManagementClient, rg: str) -> None:
    rid = f"{rg}/providers/Contoso.Whatever/things/t1"
    body = {"location": "westus2", "properties": {"a": [1, 2]}}
    thing = rm.resources.begin_create_or_update_by_id(rid, body, api_version="2020-01-01").result()
    assert thing.type == "Contoso.Whatever/things"
    assert props(thing) == {"a": [1, 2]}  # echoed, no invented provisioningState
    moved = {**body, "location": "eastus"}
    with pytest.raises(HttpResponseError) as info:
        rm.resources.begin_create_or_update_by_id(rid, moved, api_version="2020-01-01").result()
    assert info.value.status_code == 400
    assert error_code(info.value) == "InvalidResourceLocation"


def test_third_party_profiles_from_the_hook(caplog: pytest.LogCaptureFixture) -> None:
    @hookimpl
    def aso_arm_profiles() -> list[ArmProfile]:
        return [ArmProfile(type="Contoso.Widgets/gadgets", put=ArmLro(mode="async", polls=4))]

    @hookimpl(specname="aso_arm_profiles")
    def broken() -> list[ArmProfile]:
        raise ImportError("no such module")

    good = type("Good", (), {"aso_arm_profiles": staticmethod(aso_arm_profiles)})()
    bad = type("Bad", (), {"aso_arm_profiles": staticmethod(broken)})()
    with caplog.at_level(logging.ERROR):
        loaded = [p for p in plugin_profiles([("good", good), ("broken", bad)]) if "Contoso" in p.type]
    assert [p.type for p in loaded] == ["Contoso.Widgets/gadgets"]
    assert loaded[0].put.polls == 4
    assert loaded[0].source == "plugin:good"
    assert "plugin 'broken'" in caplog.text
    registry = ProfileRegistry(loaded)
    assert registry.get("contoso.widgets/GADGETS").put.is_async
    assert registry.get("Contoso.Widgets/other").source == "generic"


def test_the_test_plugins_profile_is_found_through_its_entry_point() -> None:
    """tests/testkinds' distribution metadata declares a profile-only plugin, as a third party would."""
    assert any(
        p.type == "Microsoft.AsoTest/widgets" and p.source == "plugin:testkinds-arm"
        for p in plugin_profiles()
    )


def test_profiles_given_to_an_emulator(arm_emulator_factory: Any) -> None:
    """A profile handed over as data (the shape entry points use) changes how a type behaves."""
    arm = arm_emulator_factory(
        profiles=[
            {
                "type": "Contoso.Widgets/gadgets",
                "put": {"mode": "async", "create_status": 202, "headers": ["Location"], "polls": 1},
                "provisioning_state": False,
                "computed": {"properties": {"serial": "{name}-0001"}},
            }
        ]
    )
    arm_http = ArmHttp(arm)
    rg = arm.resource_client().resource_groups.create_or_update("g", {"location": "westus2"}).id
    made = arm_http.call("PUT", f"{rg}/providers/Contoso.Widgets/gadgets/x", "2024-01-01", {"properties": {}})
    assert made.status_code == 202
    assert "Location" in made.headers
    assert arm_http.session.get(made.headers["Location"], timeout=10).status_code == 200
    got = arm_http.call("GET", f"{rg}/providers/Contoso.Widgets/gadgets/x", "2024-01-01").json()
    assert got["properties"] == {"serial": "x-0001"}


def test_refusals_by_body_and_by_ancestor(arm_emulator_factory: Any) -> None:
    """A combination the provider refuses: values of the body alone, or with an ancestor's state
    (a list on the path matches when any item holds the value); a refused write changes nothing."""
    arm = arm_emulator_factory(
        profiles=[
            {"type": "Contoso.Widgets/gadgets"},
            {
                "type": "Contoso.Widgets/gadgets/parts",
                "refusals": [
                    {
                        "present": ["properties.size", "properties.autoSize"],
                        "code": "BothSizes",
                        "message": "{name}: one of",
                    },
                    {
                        "present": ["properties.size"],
                        "ancestor": "Contoso.Widgets/gadgets",
                        "ancestor_has": {"properties.features.name": "fixed"},
                        "code": "FixedGadget",
                        "message": "{path} is not supported on {name}",
                    },
                ],
            },
        ]
    )
    arm_http = ArmHttp(arm)
    rg = arm.resource_client().resource_groups.create_or_update("g", {"location": "westus2"}).id
    plain, fixed = (
        f"{rg}/providers/Contoso.Widgets/gadgets/plain",
        f"{rg}/providers/Contoso.Widgets/gadgets/fixed",
    )
    assert arm_http.call("PUT", plain, "2024-01-01", {"properties": {"features": [{"name": "Other"}]}}).ok
    assert arm_http.call(
        "PUT", fixed, "2024-01-01", {"properties": {"features": [{"name": "x"}, {"name": "FIXED"}]}}
    ).ok
    both = arm_http.call(
        "PUT", f"{plain}/parts/p", "2024-01-01", {"properties": {"size": 1, "autoSize": {"max": 2}}}
    )
    assert (both.status_code, both.json()["error"]["code"]) == (400, "BothSizes")
    assert arm_http.call("PUT", f"{plain}/parts/p", "2024-01-01", {"properties": {"size": 1}}).ok
    refused = arm_http.call("PUT", f"{fixed}/parts/p", "2024-01-01", {"properties": {"size": 1}})
    assert (refused.status_code, refused.json()["error"]) == (
        400,
        {"code": "FixedGadget", "message": "properties.size is not supported on p"},
    )
    assert arm_http.call("GET", f"{fixed}/parts/p", "2024-01-01").status_code == 404
    assert arm_http.call("PUT", f"{fixed}/parts/p", "2024-01-01", {"properties": {"color": "red"}}).ok
    patched = arm_http.call("PATCH", f"{fixed}/parts/p", "2024-01-01", {"properties": {"size": 2}})
    assert patched.status_code == 400


def test_refusal_problems_name_the_field() -> None:
    assert ArmProfile(type="A.B/c", values=(ArmValueRule(ancestor="A.B/c"),)).problems() == [
        "values[0].ancestor/ancestor_has: give both or neither"
    ]
    assert ArmValueRule().problems() == [
        "path/present/ancestor: give a property path or the conditions of a refused combination"
    ]


def test_the_older_refusals_are_value_rules() -> None:
    """ArmRefusal and ArmProfile(refusals=...) are what plugins outside the repository may use."""
    both = ArmValueRule(present=("properties.a", "properties.b"), code="Both")
    profile = ArmProfile(
        type="A.B/c", values=(ArmValueRule(path="x"),), refusals=(ArmRefusal(present=("y",)), both)
    )
    assert ArmRefusal is ArmValueRule
    assert profile.values == (ArmValueRule(path="x"), ArmValueRule(present=("y",)), both)
    assert profile.refusals == ()
    assert profile.problems() == []
