"""Cosmos DB's own rules, end to end on the local sandbox (ARM emulator, Kubernetes API server and
the operator as a subprocess): the account's shape by kind, exports and their rotation, every kind
of the plugin with no write on a sync without change and drift put right, owners, and the
throughput rules (serverless accounts have none; ranges; not manual and autoscale at once)."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.request
from datetime import datetime
from typing import Any

import pytest

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess, create, get, wait_for, wait_ready
from aso_cosmosdb.plugin import KINDS as PLUGIN_KINDS

pytestmark = pytest.mark.timeout(180)

GROUP = "documentdb.azure.com"
V1 = "v1api20231115"
V2 = "v1api20240815"
ACCOUNTS = "Microsoft.DocumentDB/databaseAccounts"
#: plural -> ARM type and plural -> kind, of every kind the plugin serves.
TYPES = {kind.plural: kind.arm_type for kind in PLUGIN_KINDS}
KINDS = {kind.plural: kind.kind for kind in PLUGIN_KINDS}


def _obj(plural: str, name: str, spec: dict[str, Any], version: str = V2) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": KINDS[plural],
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def _apply(kube: KubeApi, plural: str, name: str, spec: dict[str, Any], version: str = V2) -> None:
    create(kube, _obj(plural, name, spec, version), plural=plural)


def _ready(kube: KubeApi, plural: str, name: str, version: str = V2, **kwargs: Any) -> dict[str, Any]:
    return wait_ready(kube, (GROUP, version, plural), name, timeout=60, **kwargs)


def _patch_spec(kube: KubeApi, plural: str, name: str, spec: dict[str, Any], version: str = V2) -> None:
    kube.custom.patch_namespaced_custom_object(GROUP, version, "default", plural, name, {"spec": spec})


def _azure(arm: ArmEmulatorHandle, arm_id: str) -> dict[str, Any] | None:
    found = arm.control.get_resource(arm_id)
    return None if found is None else found.get("body", found)


def _post(arm: ArmEmulatorHandle, arm_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
    """A POST action as any ARM client sends it, with a token of the default principal."""
    token = arm.credential().get_token(arm.scopes[0]).token
    request = urllib.request.Request(
        f"{arm.endpoint.rstrip('/')}{arm_id}/{action}?api-version=2024-08-15",
        method="POST",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    context = ssl.create_default_context(cafile=arm.ca_bundle)
    with urllib.request.urlopen(request, context=context, timeout=10) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def _secret(kube: KubeApi, name: str) -> dict[str, str] | None:
    for item in kube.core.list_namespaced_secret("default").items:
        if item.metadata.name == name:
            return {k: base64.b64decode(v).decode() for k, v in (item.data or {}).items()}
    return None


def _config_map(kube: KubeApi, name: str) -> dict[str, str] | None:
    for item in kube.core.list_namespaced_config_map("default").items:
        if item.metadata.name == name:
            return dict(item.data or {})
    return None


def _group(arm: ArmEmulatorHandle, name: str) -> str:
    group_id: str = arm.resource_client().resource_groups.create_or_update(name, {"location": "westus2"}).id
    return group_id


def test_every_kind_shapes_exports_no_write_without_change_and_drift(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, aso_operator: OperatorProcess
) -> None:
    aso_operator.env["AZURE_SYNC_PERIOD"] = "2s"
    aso_operator.start()
    owner = {"armId": _group(arm_emulator, "rg-cosmos")}  # a group aso does not manage

    # A child written before its owner waits for it.
    _apply(kube_api, "sqldatabases", "orders", {"owner": {"name": "sqlacct"}, "resource": {"id": "orders"}})
    waiting = _ready(kube_api, "sqldatabases", "orders", status="False", reason="WaitingForOwner")
    assert waiting["status"]["conditions"][0]["severity"] == "Warning"

    exports = {
        "secrets": {
            name: {"name": "sqlacct-keys", "key": name}
            for name in (
                "primaryMasterKey",
                "secondaryMasterKey",
                "primaryReadonlyMasterKey",
                "secondaryReadonlyMasterKey",
                "documentEndpoint",
            )
        },
        "configMaps": {"documentEndpoint": {"name": "sqlacct-info", "key": "endpoint"}},
    }
    _apply(
        kube_api,
        "databaseaccounts",
        "sqlacct",
        {
            "owner": owner,
            "location": "westus2",
            "kind": "GlobalDocumentDB",
            "databaseAccountOfferType": "Standard",
            "locations": [{"locationName": "westus2"}],
            "operatorSpec": exports,
        },
    )
    _apply(
        kube_api,
        "databaseaccounts",
        "mongoacct",
        {
            "owner": owner,
            "location": "westus2",
            "kind": "MongoDB",
            "capabilities": [{"name": "EnableMongo"}],
            "databaseAccountOfferType": "Standard",
            "apiProperties": {"serverVersion": "4.2"},
            "locations": [{"locationName": "westus2"}],
        },
        version=V1,
    )
    _apply(
        kube_api,
        "sqldatabasethroughputsettings",
        "orders-throughput",
        {"owner": {"name": "orders"}, "resource": {"throughput": 500}},
    )
    _apply(
        kube_api,
        "sqldatabasecontainers",
        "lines",
        {
            "owner": {"name": "orders"},
            "options": {"throughput": 400},
            "resource": {"id": "lines", "partitionKey": {"kind": "Hash", "paths": ["/orderId"]}},
        },
        version=V1,
    )
    _apply(
        kube_api,
        "sqldatabasecontainerthroughputsettings",
        "lines-throughput",
        {"owner": {"name": "lines"}, "resource": {"autoscaleSettings": {"maxThroughput": 4000}}},
    )
    _apply(
        kube_api,
        "mongodbdatabases",
        "shop",
        {
            "owner": {"name": "mongoacct"},
            "options": {"autoscaleSettings": {"maxThroughput": 4000}},
            "resource": {"id": "shop"},
        },
    )
    _apply(
        kube_api,
        "mongodbdatabasecollections",
        "carts",
        {
            "owner": {"name": "shop"},
            "options": {"throughput": 400},
            "resource": {"id": "carts", "indexes": [{"key": {"keys": ["_id"]}, "options": {"unique": True}}]},
        },
    )
    _apply(
        kube_api,
        "mongodbdatabasethroughputsettings",
        "shop-throughput",
        {"owner": {"name": "shop"}, "resource": {"autoscaleSettings": {"maxThroughput": 5000}}},
        version=V1,
    )
    _apply(
        kube_api,
        "mongodbdatabasecollectionthroughputsettings",
        "carts-throughput",
        {"owner": {"name": "carts"}, "resource": {"throughput": 600}},
    )
    ready = {
        name: _ready(kube_api, plural, name, V1 if name in ("mongoacct", "lines", "shop-throughput") else V2)
        for plural, name in [
            ("databaseaccounts", "sqlacct"),
            ("databaseaccounts", "mongoacct"),
            ("sqldatabases", "orders"),
            ("sqldatabasethroughputsettings", "orders-throughput"),
            ("sqldatabasecontainers", "lines"),
            ("sqldatabasecontainerthroughputsettings", "lines-throughput"),
            ("mongodbdatabases", "shop"),
            ("mongodbdatabasecollections", "carts"),
            ("mongodbdatabasethroughputsettings", "shop-throughput"),
            ("mongodbdatabasecollectionthroughputsettings", "carts-throughput"),
        ]
    }
    sql_id = ready["sqlacct"]["status"]["id"]
    assert ready["orders-throughput"]["status"]["id"].endswith(
        "/sqlDatabases/orders/throughputSettings/default"
    )

    # The account's shape follows its kind, as Azure answers it.
    sql, mongo = _azure(arm_emulator, sql_id), _azure(arm_emulator, sql_id.replace("/sqlacct", "/mongoacct"))
    assert sql is not None
    assert mongo is not None
    assert sql["properties"]["EnabledApiTypes"] == "Sql"
    assert "mongoEndpoint" not in sql["properties"]
    assert mongo["properties"]["EnabledApiTypes"] == "MongoDB"
    assert mongo["properties"]["mongoEndpoint"] == "https://mongoacct.mongo.cosmos.azure.com:443/"
    assert mongo["properties"]["apiProperties"] == {"serverVersion": "4.2"}
    mongo_status = get(kube_api, (GROUP, V1, "databaseaccounts"), "mongoacct")
    assert mongo_status is not None
    assert mongo_status["status"]["apiProperties"] == {"serverVersion": "4.2"}
    assert ready["sqlacct"]["status"]["documentEndpoint"] == "https://sqlacct.documents.azure.com:443/"

    # Exports: keys from listKeys and readonlykeys, the endpoint as a Secret and as a ConfigMap.
    keys = _post(arm_emulator, sql_id, "listKeys")
    secret = wait_for(lambda: _secret(kube_api, "sqlacct-keys"), timeout=30, what="sqlacct-keys")
    assert secret == {
        **{k: keys[k] for k in ("primaryMasterKey", "secondaryMasterKey")},
        **{k: keys[k] for k in ("primaryReadonlyMasterKey", "secondaryReadonlyMasterKey")},
        "documentEndpoint": "https://sqlacct.documents.azure.com:443/",
    }
    assert _config_map(kube_api, "sqlacct-info") == {"endpoint": "https://sqlacct.documents.azure.com:443/"}

    # A sync with nothing changed reads every resource and writes none.
    arm_emulator.control.reset_counts()
    wait_for(
        lambda: all(
            arm_emulator.control.counts().get("GET", t) >= 2 * (2 if p == "databaseaccounts" else 1)
            for p, t in TYPES.items()
        ),
        timeout=30,
        what="two sync rounds of every kind",
    )
    counts = arm_emulator.control.counts()
    assert {t: counts.get("PUT", t) for t in TYPES.values()} == {t: 0 for t in TYPES.values()}

    # Azure rotates the primary key: the Secret follows at the next sync.
    _post(arm_emulator, sql_id, "regenerateKey", {"keyKind": "primary"})
    rotated = _post(arm_emulator, sql_id, "listKeys")["primaryMasterKey"]
    assert rotated != keys["primaryMasterKey"]
    wait_for(
        lambda: (_secret(kube_api, "sqlacct-keys") or {}).get("primaryMasterKey") == rotated,
        timeout=30,
        what="the rotated key exported",
    )

    # Throughput changed outside is put back at the next sync.
    setting_id = f"{sql_id}/sqlDatabases/orders/throughputSettings/default"
    arm_emulator.control.drift(setting_id, {"properties": {"resource": {"throughput": 900}}})
    wait_for(
        lambda: (
            ((_azure(arm_emulator, setting_id) or {}).get("properties") or {})
            .get("resource", {})
            .get("throughput")
            == 500
        ),
        timeout=30,
        what="the drifted throughput put back",
    )


def test_throughput_rules_end_as_clear_errors_and_recover(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    owner = {"armId": _group(arm_emulator, "rg-serverless")}
    # An account create is long: several polls; the handler returns between them and is called
    # again after ARM's Retry-After (the test emulator answers 0, so the operator's floor, 0.5 s).
    arm_emulator.control.set_lro(
        ACCOUNTS,
        "PUT",
        mode="async",
        create_status=200,
        headers=["Azure-AsyncOperation", "Location"],
        polls=4,
    )
    _apply(
        kube_api,
        "databaseaccounts",
        "nothroughput",
        {
            "owner": owner,
            "location": "westus2",
            "kind": "GlobalDocumentDB",
            "databaseAccountOfferType": "Standard",
            "capabilities": [{"name": "EnableServerless"}],
            "locations": [{"locationName": "westus2"}],
        },
    )
    account = _ready(kube_api, "databaseaccounts", "nothroughput")
    account_id = account["status"]["id"]
    (create_op,) = [
        o
        for o in arm_emulator.control.operations()
        if o["kind"] == "put" and o["resource_id"].lower() == account_id.lower()
    ]
    assert create_op["status"] == "Succeeded"
    assert create_op["polls_seen"] >= 4
    took = datetime.fromisoformat(create_op["end_time"].replace("Z", "+00:00")) - datetime.fromisoformat(
        create_op["start_time"].replace("Z", "+00:00")
    )
    assert took.total_seconds() >= 1.5  # four polls, each from a later call of the handler

    # Serverless: a database sent with throughput, and a throughput setting, are refused by ARM.
    _apply(
        kube_api,
        "sqldatabases",
        "events",
        {"owner": {"name": "nothroughput"}, "options": {"throughput": 400}, "resource": {"id": "events"}},
    )
    refused = _ready(kube_api, "sqldatabases", "events", status="False", reason="BadRequest")
    condition = next(c for c in refused["status"]["conditions"] if c["type"] == "Ready")
    assert condition["severity"] == "Error"
    assert "serverless" in condition["message"]
    assert _azure(arm_emulator, f"{account_id}/sqlDatabases/events") is None

    # Fixing the spec (no throughput) recovers the object.
    _patch_spec(kube_api, "sqldatabases", "events", {"options": None})
    _ready(kube_api, "sqldatabases", "events")
    _apply(
        kube_api,
        "sqldatabasethroughputsettings",
        "events-throughput",
        {"owner": {"name": "events"}, "resource": {"throughput": 400}},
    )
    refused = _ready(
        kube_api, "sqldatabasethroughputsettings", "events-throughput", status="False", reason="BadRequest"
    )
    assert "serverless" in next(c for c in refused["status"]["conditions"] if c["type"] == "Ready")["message"]

    # A provisioned account: below the minimum, or manual and autoscale at once, is refused too.
    _apply(
        kube_api,
        "databaseaccounts",
        "provisioned",
        {
            "owner": owner,
            "location": "westus2",
            "databaseAccountOfferType": "Standard",
            "locations": [{"locationName": "westus2"}],
        },
        version=V1,
    )
    _ready(kube_api, "databaseaccounts", "provisioned", V1)
    _apply(
        kube_api,
        "sqldatabases",
        "tiny",
        {"owner": {"name": "provisioned"}, "options": {"throughput": 100}, "resource": {"id": "tiny"}},
        version=V1,
    )
    refused = _ready(kube_api, "sqldatabases", "tiny", V1, status="False", reason="BadRequest")
    assert "400" in next(c for c in refused["status"]["conditions"] if c["type"] == "Ready")["message"]
    _patch_spec(
        kube_api,
        "sqldatabases",
        "tiny",
        {"options": {"throughput": 400, "autoscaleSettings": {"maxThroughput": 4000}}},
        version=V1,
    )
    wait_for(
        lambda: (
            "not both"
            in next(
                (
                    c.get("message", "")
                    for c in (get(kube_api, (GROUP, V1, "sqldatabases"), "tiny") or {})
                    .get("status", {})
                    .get("conditions", [])
                    if c["type"] == "Ready"
                ),
                "",
            )
        ),
        timeout=30,
        what="manual and autoscale refused",
    )
    _patch_spec(
        kube_api,
        "sqldatabases",
        "tiny",
        {"options": {"throughput": 400, "autoscaleSettings": None}},
        version=V1,
    )
    _ready(kube_api, "sqldatabases", "tiny", V1)
    assert (
        _azure(arm_emulator, f"{account_id.replace('/nothroughput', '/provisioned')}/sqlDatabases/tiny")
        is not None
    )


def test_a_name_or_region_arm_refuses_ends_as_its_error_and_a_fixed_region_recovers(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    owner = {"armId": _group(arm_emulator, "rg-bad-input")}
    account = {
        "owner": owner,
        "databaseAccountOfferType": "Standard",
        "locations": [{"locationName": "westus2"}],
    }
    # 45 characters: within ASO's CRD rule (50), over Azure's (44).
    long_name = "a" * 45
    _apply(
        kube_api, "databaseaccounts", "toolong", {**account, "azureName": long_name, "location": "westus2"}
    )
    _apply(kube_api, "databaseaccounts", "nowhere", {**account, "location": "atlantis"})
    for name, reason in (
        ("toolong", "InvalidResourceName"),
        ("nowhere", "LocationNotAvailableForResourceType"),
    ):
        refused = _ready(kube_api, "databaseaccounts", name, status="False", reason=reason)
        condition = next(c for c in refused["status"]["conditions"] if c["type"] == "Ready")
        assert condition["severity"] == "Error", condition
        assert condition["message"], condition
    assert arm_emulator.control.resources(ACCOUNTS) == []

    _patch_spec(kube_api, "databaseaccounts", "nowhere", {"location": "westus2"})
    _ready(kube_api, "databaseaccounts", "nowhere")
    assert [r["id"].rsplit("/", 1)[-1] for r in arm_emulator.control.resources(ACCOUNTS)] == ["nowhere"]
