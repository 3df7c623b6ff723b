"""The SQL service rules end to end: secrets in, exports out, no write without a change, updates in
place, clear errors that recover, owners and deletes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sql_testkit import CONFIG_MAPS, create_config_map, create_sample_prerequisites, which

from aso.testing import (
    ArmEmulatorHandle,
    KubeApi,
    OperatorProcess,
    create,
    get,
    ready_condition,
    wait_for,
    wait_ready,
)

pytestmark = pytest.mark.timeout(170)

V1 = "v1api20211101"
V2 = "v20211101"
PASSWORD = "Initial-Passw0rd-xyz"
NEW_PASSWORD = "Rotated-Passw0rd-abc"


def server(name: str, version: str = V1, rg: str = "aso-sample-rg", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "owner": {"name": rg},
        "location": "westus2",
        "administratorLogin": "myadmin",
        "administratorLoginPassword": {"name": "rules-sql-secret", "key": "password"},
        "version": "12.0",
    }
    body.update(spec)
    return {
        "apiVersion": f"sql.azure.com/{version}",
        "kind": "Server",
        "metadata": {"name": name, "namespace": "default"},
        "spec": body,
    }


def _refused(k8s: KubeApi, kind: str, version: str, name: str, reason: str) -> dict[str, Any]:
    """Wait until ``name`` is not Ready for ``reason`` with severity Error (the user must act);
    its Ready condition."""
    condition = ready_condition(
        wait_ready(k8s, which(kind, version), name, status="False", reason=reason, timeout=60)
    )
    assert condition["severity"] == "Error", condition
    return condition


def child(kind: str, name: str, owner: str, version: str = V2, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"sql.azure.com/{version}",
        "kind": kind,
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"owner": {"name": owner}, **spec},
    }


def apply(k8s: KubeApi, obj: dict[str, Any]) -> None:
    plural = which(obj["kind"], V1)[2]
    create(k8s, obj, plural=plural)


def patch(k8s: KubeApi, kind: str, name: str, spec: dict[str, Any], version: str = V2) -> None:
    group, ver, plural = which(kind, version)
    k8s.custom.patch_namespaced_custom_object(group, ver, "default", plural, name, {"spec": spec})


def arm_body(arm: ArmEmulatorHandle, arm_id: str) -> dict[str, Any]:
    found = arm.control.get_resource(arm_id) or {}
    body: dict[str, Any] = found.get("body", found)
    return body


def counts(arm: ArmEmulatorHandle, method: str, resource_type: str) -> int:
    return arm.control.counts().get(method, resource_type)


def set_password(k8s: KubeApi, value: str) -> None:
    data = {"password": base64.b64encode(value.encode()).decode()}
    k8s.core.patch_namespaced_secret("rules-sql-secret", "default", {"data": data})


def test_secret_export_no_drift_rotation_and_sku_update(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, aso_operator: OperatorProcess
) -> None:
    aso_operator.env["AZURE_SYNC_PERIOD"] = "1s"
    aso_operator.start()
    k8s, arm = kube_api, arm_emulator
    create_sample_prerequisites(k8s)
    k8s.core.create_namespaced_secret(
        "default",
        {
            "metadata": {"name": "rules-sql-secret"},
            "data": {"password": base64.b64encode(PASSWORD.encode()).decode()},
        },
    )
    apply(
        k8s,
        server(
            "aso-rules-sql",
            tags={"team": "data"},
            operatorSpec={"configMaps": {"fullyQualifiedDomainName": {"name": "sql-out", "key": "fqdn"}}},
        ),
    )
    apply(
        k8s,
        child(
            "ServersDatabase",
            "rules-db",
            "aso-rules-sql",
            location="westus2",
            sku={"name": "S0", "tier": "Standard"},
        ),
    )
    apply(
        k8s,
        child(
            "ServersFirewallRule",
            "rules-fw",
            "aso-rules-sql",
            startIpAddress="10.0.0.1",
            endIpAddress="10.0.0.9",
        ),
    )
    apply(
        k8s,
        child(
            "ServersAdministrator",
            "rules-admin",
            "aso-rules-sql",
            administratorType="ActiveDirectory",
            login="dba-group",
            sidFromConfig={"name": "aaduserconfig", "key": "sid"},
            tenantIdFromConfig={"name": "aaduserconfig", "key": "tenantid"},
        ),
    )
    apply(
        k8s,
        child(
            "ServersAzureADOnlyAuthentication",
            "rules-aadonly",
            "aso-rules-sql",
            azureADOnlyAuthentication=True,
        ),
    )

    srv = wait_ready(k8s, which("Server", V1), "aso-rules-sql", timeout=60)
    db = wait_ready(k8s, which("ServersDatabase", V2), "rules-db", timeout=60)
    for kind, name in [
        ("ServersFirewallRule", "rules-fw"),
        ("ServersAdministrator", "rules-admin"),
        ("ServersAzureADOnlyAuthentication", "rules-aadonly"),
    ]:
        wait_ready(k8s, which(kind, V2), name, timeout=60)
    server_id = srv["status"]["id"]
    assert srv["status"]["fullyQualifiedDomainName"] == "aso-rules-sql.database.windows.net"
    admin = arm_body(arm, server_id + "/administrators/ActiveDirectory")
    assert admin["properties"]["sid"] == CONFIG_MAPS["aaduserconfig"]["sid"]
    assert admin["properties"]["tenantId"] == CONFIG_MAPS["aaduserconfig"]["tenantid"]
    assert arm_body(arm, server_id + "/azureADOnlyAuthentications/Default")["properties"] == {
        "azureADOnlyAuthentication": True
    }

    # The server's and the database's creates were long-running operations, polled to their end.
    operations = {(o["resource_id"].lower(), o["kind"]): o for o in arm.control.operations()}
    for arm_id in (server_id, db["status"]["id"]):
        created = operations[(arm_id.lower(), "put")]
        assert created["status"] == "Succeeded"
        assert created["polls_needed"] >= 2
        assert created["polls_seen"] >= created["polls_needed"]

    # Export: the ConfigMap the user named holds the server's host name.
    exported = wait_for(lambda: k8s.core.read_namespaced_config_map("sql-out", "default").data, timeout=30)
    assert exported == {"fqdn": "aso-rules-sql.database.windows.net"}

    # The password went to Azure and is echoed nowhere: not by ARM, not in the object, not in logs.
    assert "administratorLoginPassword" not in json.dumps(arm_body(arm, server_id))
    for secret in (PASSWORD, base64.b64encode(PASSWORD.encode()).decode()):
        assert secret not in json.dumps(get(k8s, which("Server", V2), "aso-rules-sql"))
        assert secret not in aso_operator.log()

    # Syncs with nothing changed read every resource and write none of them.
    types = [
        "microsoft.sql/servers",
        "microsoft.sql/servers/databases",
        "microsoft.sql/servers/firewallrules",
        "microsoft.sql/servers/administrators",
        "microsoft.sql/servers/azureadonlyauthentications",
    ]
    arm.control.reset_counts()
    wait_for(
        lambda: all(counts(arm, "GET", t) >= 2 for t in types), timeout=60, what="two syncs of every kind"
    )
    assert {t: counts(arm, "PUT", t) for t in types} == dict.fromkeys(types, 0)

    # A new password in the Secret is sent at the next sync, once.
    set_password(k8s, NEW_PASSWORD)
    wait_for(lambda: counts(arm, "PUT", "microsoft.sql/servers") == 1, timeout=30, what="the password PUT")
    before = counts(arm, "GET", "microsoft.sql/servers")
    wait_for(
        lambda: counts(arm, "GET", "microsoft.sql/servers") >= before + 2, timeout=30, what="two more syncs"
    )
    assert counts(arm, "PUT", "microsoft.sql/servers") == 1
    assert NEW_PASSWORD not in aso_operator.log()
    assert (
        wait_ready(k8s, which("Server", V1), "aso-rules-sql")["status"].get("administratorLogin") == "myadmin"
    )

    # A SKU change updates the database in place: a PUT, no delete, the same database.
    database_id = db["status"]["id"]
    first_db = arm_body(arm, database_id)["properties"]["databaseId"]
    patch(k8s, "ServersDatabase", "rules-db", {"sku": {"name": "S1", "tier": "Standard"}})
    wait_for(lambda: arm_body(arm, database_id).get("sku", {}).get("name") == "S1", timeout=30, what="sku S1")
    assert counts(arm, "DELETE", "microsoft.sql/servers/databases") == 0
    assert arm_body(arm, database_id)["properties"]["databaseId"] == first_db
    wait_for(
        lambda: (
            (get(k8s, which("ServersDatabase", V2), "rules-db") or {})
            .get("status", {})
            .get("sku", {})
            .get("name")
            == "S1"
        ),
        timeout=30,
        what="status.sku S1",
    )

    # Drift made outside is put right at the next sync.
    arm.control.drift(server_id + "/firewallRules/rules-fw", {"properties": {"endIpAddress": "10.0.0.200"}})
    wait_for(
        lambda: (
            arm_body(arm, server_id + "/firewallRules/rules-fw")["properties"]["endIpAddress"] == "10.0.0.9"
        ),
        timeout=30,
        what="the firewall rule restored",
    )

    # Deleting the server deletes it with its children in Azure; no object is left behind.
    k8s.custom.delete_namespaced_custom_object(
        *which("Server", V1)[:2], "default", "servers", "aso-rules-sql"
    )
    wait_for(lambda: get(k8s, which("Server", V1), "aso-rules-sql") is None, timeout=60, what="server gone")
    assert arm.control.get_resource(server_id) is None
    assert arm.control.resources("Microsoft.Sql/servers/databases") == []
    for kind, name in [
        ("ServersDatabase", "rules-db"),
        ("ServersFirewallRule", "rules-fw"),
        ("ServersAdministrator", "rules-admin"),
        ("ServersAzureADOnlyAuthentication", "rules-aadonly"),
    ]:
        wait_for(lambda k=kind, n=name: get(k8s, which(k, V2), n) is None, timeout=60, what=f"{kind} gone")


def test_errors_are_clear_and_recover(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    k8s, arm = kube_api, arm_emulator
    create_sample_prerequisites(k8s)
    k8s.core.create_namespaced_secret(
        "default",
        {
            "metadata": {"name": "rules-sql-secret"},
            "data": {"password": base64.b64encode(b"x-Passw0rd").decode()},
        },
    )

    # A child waits for its owner.
    apply(
        k8s,
        child(
            "ServersFirewallRule",
            "early-fw",
            "aso-late-sql",
            startIpAddress="1.1.1.1",
            endIpAddress="1.1.1.1",
        ),
    )
    wait_ready(k8s, which("ServersFirewallRule", V2), "early-fw", status="False", reason="WaitingForOwner")

    # An administrator whose ConfigMap is missing, then lacks the key, says which ConfigMap and key.
    admin = child(
        "ServersAdministrator",
        "late-admin",
        "aso-late-sql",
        administratorType="ActiveDirectory",
        login="dba",
        sidFromConfig={"name": "late-config", "key": "sid"},
        tenantIdFromConfig={"name": "aaduserconfig", "key": "tenantid"},
    )
    apply(k8s, admin)
    apply(k8s, server("aso-late-sql"))
    wait_ready(k8s, which("Server", V1), "aso-late-sql", timeout=60)
    wait_ready(k8s, which("ServersFirewallRule", V2), "early-fw", timeout=60)
    missing = wait_ready(
        k8s,
        which("ServersAdministrator", V2),
        "late-admin",
        status="False",
        reason="ConfigMapNotFound",
        timeout=60,
    )
    message = missing["status"]["conditions"][0]["message"]
    assert "late-config" in message, message
    assert "sidFromConfig" in message, message
    assert "'sid'" in message, message
    create_config_map(k8s, "late-config", {"other": "x"})
    no_key = wait_for(
        lambda: (
            "'sid'" in str((get(k8s, which("ServersAdministrator", V2), "late-admin") or {}).get("status"))
        ),
        timeout=60,
        what="the missing key named",
    )
    assert no_key
    k8s.core.patch_namespaced_config_map(
        "late-config", "default", {"data": {"sid": CONFIG_MAPS["aaduserconfig"]["sid"]}}
    )
    wait_ready(k8s, which("ServersAdministrator", V2), "late-admin", timeout=60)

    # A server name ARM refuses: its code and message, severity Error, nothing written.
    apply(k8s, server("bad-name", azureName="Bad_Name"))
    assert "ServerName" in _refused(k8s, "Server", V1, "bad-name", "InvalidServerName")["message"]

    # A value outside the documented set: refused, nothing deleted, and fixing the spec recovers.
    apply(k8s, server("aso-tls-sql", minimalTlsVersion="1.9"))
    _refused(k8s, "Server", V1, "aso-tls-sql", "InvalidValuesForRequestParameters")
    patch(k8s, "Server", "aso-tls-sql", {"minimalTlsVersion": "1.2"}, version=V1)
    wait_ready(k8s, which("Server", V1), "aso-tls-sql", timeout=60)

    # A child of a server aso does not manage, by spec.owner.armId.
    group_id = f"/subscriptions/{arm.subscription_id}/resourceGroups/aso-sample-rg"
    outside_id = f"{group_id}/providers/Microsoft.Sql/servers/aso-outside-sql"
    arm.resource_client().resources.begin_create_or_update_by_id(
        outside_id,
        {
            "location": "westus2",
            "properties": {"administratorLogin": "a", "administratorLoginPassword": "P4ss-word!"},
        },
        api_version="2021-11-01",
    ).result()
    outside_rule = child(
        "ServersFirewallRule", "outside-fw", "unused", startIpAddress="2.2.2.2", endIpAddress="2.2.2.3"
    )
    outside_rule["spec"]["owner"] = {"armId": outside_id}
    apply(k8s, outside_rule)
    ruled = wait_ready(k8s, which("ServersFirewallRule", V2), "outside-fw", timeout=60)
    assert ruled["status"]["id"] == outside_id + "/firewallRules/outside-fw"
    assert arm_body(arm, outside_id + "/firewallRules/outside-fw")["properties"]["endIpAddress"] == "2.2.2.3"

    # A SKU ARM does not know: its code, nothing written; the right SKU recovers the database.
    apply(k8s, child("ServersDatabase", "gold-db", "aso-late-sql", location="westus2", sku={"name": "Gold"}))
    assert "Gold" in _refused(k8s, "ServersDatabase", V2, "gold-db", "InvalidSku")["message"]
    patch(k8s, "ServersDatabase", "gold-db", {"sku": {"name": "GP_S_Gen5_2", "tier": "GeneralPurpose"}})
    wait_ready(k8s, which("ServersDatabase", V2), "gold-db", timeout=60)

    # A region ARM does not serve.
    apply(k8s, server("aso-mars-sql", location="marsnorth"))
    _refused(k8s, "Server", V1, "aso-mars-sql", "LocationNotAvailableForResourceType")

    # Server names are unique across Azure: the same name in another group is refused.
    create(
        k8s,
        {
            "apiVersion": "resources.azure.com/v1api20200601",
            "kind": "ResourceGroup",
            "metadata": {"name": "other-rg", "namespace": "default"},
            "spec": {"location": "westus2"},
        },
        plural="resourcegroups",
    )
    apply(k8s, server("twin", rg="other-rg", azureName="aso-late-sql"))
    _refused(k8s, "Server", V1, "twin", "NameAlreadyExists")
    assert arm.control.get_resource(
        f"/subscriptions/{arm.subscription_id}/resourceGroups/aso-sample-rg/providers/Microsoft.Sql/servers/aso-late-sql"
    )
