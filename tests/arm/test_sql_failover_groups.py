"""SQL rules learned from ASO v2's Test_SQL_Server_FailoverGroup_CRUD and Test_SQL_Server_CRUD
(API 2021-11-01): failover groups, and a database's default secondary in its region's pair."""

from __future__ import annotations

import pytest
from azure.mgmt.resource.resources import ResourceManagementClient

from aso.testing.arm import ArmHttp

API = "2021-11-01"


@pytest.fixture
def group(rm: ResourceManagementClient) -> str:
    return str(rm.resource_groups.create_or_update("sql-fog", {"location": "eastus"}).id)


def _server(rm: ResourceManagementClient, group: str, name: str, location: str) -> str:
    rid = f"{group}/providers/Microsoft.Sql/servers/{name}"
    body = {
        "location": location,
        "properties": {"administratorLogin": "myadmin", "administratorLoginPassword": "x!Y7"},
    }
    rm.resources.begin_create_or_update_by_id(rid, body, api_version=API).result()
    return rid


@pytest.mark.parametrize(
    ("location", "secondary"),
    [
        ("eastus", "westus"),
        ("westus2", "westcentralus"),
        ("northeurope", "westeurope"),
        ("westus3", "eastus"),
    ],
)
def test_a_database_defaults_its_secondary_to_the_paired_region(
    rm: ResourceManagementClient, arm_http: ArmHttp, group: str, location: str, secondary: str
) -> None:
    server = _server(rm, group, f"pair-{location}", location)
    db = f"{server}/databases/db1"
    rm.resources.begin_create_or_update_by_id(db, {"location": location}, api_version=API).result()
    assert arm_http.call("GET", db, API).json()["properties"]["defaultSecondaryLocation"] == secondary


def test_a_failover_group_is_created_and_dropped_as_sql_does(
    rm: ResourceManagementClient, arm_http: ArmHttp, group: str
) -> None:
    primary = _server(rm, group, "fog-primary", "eastus")
    secondary = _server(rm, group, "fog-secondary", "eastus2")
    fog = f"{primary}/failoverGroups/fog1"
    body = {
        "properties": {
            "partnerServers": [{"id": secondary}],
            "readWriteEndpoint": {
                "failoverPolicy": "Automatic",
                "failoverWithDataLossGracePeriodMinutes": 60,
            },
        }
    }
    created = arm_http.call("PUT", fog, API, body)
    assert created.status_code == 202
    assert {"Azure-AsyncOperation", "Location"} <= set(created.headers)
    assert created.json()["operation"] == "CreateFailoverGroup"
    rm.resources.begin_create_or_update_by_id(fog, body, api_version=API).result()
    got = arm_http.call("GET", fog, API).json()
    assert got["location"] == "East US"  # the primary server's region, as displayed
    assert "provisioningState" not in got["properties"]
    assert got["properties"]["readOnlyEndpoint"] == {"failoverPolicy": "Disabled"}
    assert (got["properties"]["replicationRole"], got["properties"]["replicationState"]) == (
        "Primary",
        "CATCH_UP",
    )

    dropped = arm_http.call("DELETE", fog, API)
    assert dropped.status_code == 202
    assert dropped.json()["operation"] == "DropFailoverGroup"
    rm.resources.begin_delete_by_id(fog, api_version=API).result()
    gone = arm_http.call("GET", fog, API)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "ResourceNotFound"


@pytest.mark.parametrize(
    "child", ["failoverGroups", "firewallRules", "ipv6FirewallRules", "virtualNetworkRules"]
)
def test_a_missing_proxy_child_is_answered_by_azure_sql(
    rm: ResourceManagementClient, arm_http: ArmHttp, group: str, child: str
) -> None:
    server = _server(rm, group, "proxy-children", "eastus")
    missing = arm_http.call("GET", f"{server}/{child}/nothing", API)
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "ResourceNotFound",
        "message": f"The requested resource of type 'Microsoft.Sql/servers/{child}' with name 'nothing' "
        "was not found.",
    }


def test_a_missing_elastic_pool_is_named_as_azure_sql_registered_its_type(
    rm: ResourceManagementClient, arm_http: ArmHttp, group: str
) -> None:
    server = _server(rm, group, "pools", "eastus")
    missing = arm_http.call("GET", f"{server}/elasticPools/nothing", API)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"].startswith(
        "The Resource 'Microsoft.Sql/servers/pools/elasticpools/nothing' under resource group 'sql-fog' "
        "was not found."
    )
