"""Unit tests of the operator's pure pieces: mapping, drift, settings, operation records, errors."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

import pytest

from aso.errors import PermanentError, RetryableError
from aso.extensions import ArmErrorInfo
from aso.kinds import NameRule
from aso.names import GENERAL_NAME_RULE
from aso.operator.arm import RateLimiter
from aso.operator.armid import child_id, id_problem, resource_type_of, subscription_of, url_path
from aso.operator.claims import ClaimIndex
from aso.operator.conditions import build_ready
from aso.operator.mapping import arm_body, differences, status_from_arm
from aso.operator.operations import Operation, OperationRejected
from aso.operator.reconciler import classify
from aso.operator.settings import Settings, SettingsError, parse_duration

SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "location": {"type": "string"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "sku": {"type": "object", "properties": {"name": {"type": "string"}}},
        "redisVersion": {"type": "string", "x-aso-arm": "properties.redisVersion"},
        "adminPassword": {
            "type": "object",
            "x-aso-kind": "secret",
            "x-aso-arm": "properties.adminPassword",
            "properties": {"name": {"type": "string"}, "key": {"type": "string"}},
        },
        "login": {"type": "string", "x-aso-arm": "properties.login"},
        "loginFromConfig": {
            "type": "object",
            "x-aso-kind": "config",
            "x-aso-arm": "properties.login",
            "properties": {"name": {"type": "string"}, "key": {"type": "string"}},
        },
        "subnetReference": {
            "type": "object",
            "x-aso-kind": "reference",
            "x-aso-arm": "properties.subnetId",
            "properties": {"armId": {"type": "string"}},
        },
        "rules": {
            "type": "array",
            "x-aso-arm": "properties.rules",
            "items": {"type": "object", "properties": {"ip": {"type": "string"}}},
        },
        "identity": {
            "type": "object",
            "properties": {
                "userAssignedIdentities": {
                    "type": "array",
                    "x-aso-kind": "identities",
                    "items": {"type": "object", "properties": {"reference": {"type": "object"}}},
                }
            },
        },
        "backupPolicy": {
            "type": "object",
            "x-aso-kind": "union",
            "x-aso-discriminator": "type",
            "x-aso-arm": "properties.backupPolicy",
            "properties": {
                "periodic": {
                    "type": "object",
                    "x-aso-discriminator-value": "Periodic",
                    "properties": {"type": {"type": "string"}, "hours": {"type": "integer"}},
                },
                "continuous": {
                    "type": "object",
                    "x-aso-discriminator-value": "Continuous",
                    "properties": {"type": {"type": "string"}},
                },
            },
        },
    },
}


class FakeResolver:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def secret(self, name: str, key: str, field: str) -> str:
        self.calls.append(f"secret {name}/{key} for {field}")
        return "s3cret"

    async def config(self, name: str, key: str, field: str) -> str:
        self.calls.append(f"config {name}/{key} for {field}")
        return "from-config"

    async def reference(self, ref: Mapping[str, Any], field: str) -> str:
        self.calls.append(f"reference for {field}")
        return str(ref.get("armId") or f"/subscriptions/x/resourceGroups/rg/providers/P/t/{ref.get('name')}")


def test_arm_body_unflattens_and_resolves() -> None:
    spec = {
        "azureName": "ignored",
        "owner": {"name": "rg"},
        "operatorSpec": {"secrets": {}},
        "location": "westus2",
        "tags": {"a": "b"},
        "sku": {"name": "Basic"},
        "redisVersion": "6",
        "adminPassword": {"name": "pw", "key": "password"},
        "loginFromConfig": {"name": "cfg", "key": "login"},
        "subnetReference": {
            "armId": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/vnets/v/subnets/s"
        },
        "rules": [{"ip": "1.2.3.4"}],
        "identity": {"userAssignedIdentities": [{"reference": {"name": "mi"}}]},
        "backupPolicy": {"periodic": {"type": "Periodic", "hours": 4}},
        "unknownField": 1,
    }
    resolver = FakeResolver()
    body, secrets = asyncio.run(arm_body(SPEC_SCHEMA, spec, resolver))
    assert body == {
        "location": "westus2",
        "tags": {"a": "b"},
        "sku": {"name": "Basic"},
        "identity": {"userAssignedIdentities": {"/subscriptions/x/resourceGroups/rg/providers/P/t/mi": {}}},
        "properties": {
            "redisVersion": "6",
            "adminPassword": "s3cret",
            "login": "from-config",
            "subnetId": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/vnets/v/subnets/s",
            "rules": [{"ip": "1.2.3.4"}],
            "backupPolicy": {"type": "Periodic", "hours": 4},
        },
    }
    assert secrets == {"properties.adminPassword"}
    assert "secret pw/password for adminPassword" in resolver.calls


def test_plain_value_wins_over_its_from_config_twin() -> None:
    spec = {"login": "direct", "loginFromConfig": {"name": "cfg", "key": "login"}}
    resolver = FakeResolver()
    body, _ = asyncio.run(arm_body(SPEC_SCHEMA, spec, resolver))
    assert body == {"properties": {"login": "direct"}}
    assert resolver.calls == []


def test_status_from_arm_flattens_and_drops_wrong_types() -> None:
    status_schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "location": {"type": "string"},
            "redisVersion": {"type": "string", "x-aso-arm": "properties.redisVersion"},
            "port": {"type": "integer", "x-aso-arm": "properties.port"},
            "backupPolicy": SPEC_SCHEMA["properties"]["backupPolicy"],
        },
    }
    resource = {
        "id": "/x",
        "location": "West US 2",
        "properties": {"redisVersion": "6.0", "port": "not-a-number", "backupPolicy": {"type": "Continuous"}},
        "extra": True,
    }
    assert status_from_arm(status_schema, resource) == {
        "id": "/x",
        "location": "West US 2",
        "redisVersion": "6.0",
        "backupPolicy": {"continuous": {"type": "Continuous"}},
    }


def test_differences_follow_arm_normalisation_seen_in_recordings() -> None:
    desired = {
        "location": "westus2",
        "properties": {"redisVersion": "6", "sku": {"name": "Basic"}},
        "tags": {"A": "x"},
    }
    actual = {
        "location": "West US 2",
        "properties": {"redisVersion": "6.0", "sku": {"name": "basic"}, "hostName": "h", "port": 6379},
        "tags": {"A": "x"},
    }
    assert differences(desired, actual) == []
    assert differences({"tags": {"A": "x"}}, {"tags": {"A": "X"}}) == ["tags.A"]
    assert differences({"properties": {"redisVersion": "6"}}, {"properties": {"redisVersion": "7.0"}}) == [
        "properties.redisVersion"
    ]
    # A version line ("6", "6.0") is satisfied by any release of it ("6.0.14"), not by another line
    # nor by another version of as many parts.
    full = {"properties": {"redisVersion": "6.0.14"}}
    assert differences({"properties": {"redisVersion": "6"}}, full) == []
    assert differences({"properties": {"redisVersion": "6.0"}}, full) == []
    assert differences({"properties": {"redisVersion": "6.1"}}, full) == ["properties.redisVersion"]
    assert differences({"properties": {"redisVersion": "4"}}, full) == ["properties.redisVersion"]
    assert differences({"v": "1.0"}, {"v": "1.1"}) == ["v"]
    assert differences({"v": "6.0.14"}, {"v": "6"}) == ["v"]
    assert differences({"properties": {"a": 1}}, {"properties": {}}) == ["properties.a"]
    assert differences({"properties": {"pw": "x"}}, {"properties": {}}, frozenset({"properties.pw"})) == []
    assert differences({"p": [1, 2]}, {"p": [1]}) == ["p"]
    # A kind's write-only paths (Cosmos DB children: options, location) are sent, never compared.
    child = {"location": "eastus", "properties": {"options": {"throughput": 400}, "resource": {"id": "db"}}}
    got = {"properties": {"resource": {"id": "db", "_rid": "x"}}}
    assert differences(child, got) == ["location", "properties.options"]
    assert differences(child, got, frozenset({"location", "properties.options"})) == []
    regions = {"properties": {"locations": [{"locationName": "westus2"}]}}
    answered = {"properties": {"locations": [{"locationName": "West US 2", "id": "a-westus2"}]}}
    assert differences(regions, answered) == []
    assert differences(regions, {"properties": {"locations": [{"locationName": "East US"}]}}) == [
        "properties.locations[0].locationName"
    ]


def test_settings_from_env_and_errors_name_the_variable() -> None:
    settings = Settings.from_env(
        {
            "AZURE_SUBSCRIPTION_ID": "sub",
            "AZURE_SYNC_PERIOD": "15m",
            "AZURE_AUTHORITY_HOST": "https://127.0.0.1:8443",
            "AZURE_TARGET_NAMESPACES": "a, b",
            "ASO_METRICS_ADDRESS": "127.0.0.1:0",
        }
    )
    assert settings.sync_period == 900
    assert settings.namespaces == ("a", "b")
    assert settings.instance_discovery is False
    assert settings.metrics_address == ("127.0.0.1", 0)
    assert Settings.from_env({}).instance_discovery is True
    assert Settings.from_env({"AZURE_SYNC_PERIOD": "never"}).sync_period is None
    assert parse_duration("X", "1h30m") == 5400
    for env, name in [
        ({"AZURE_SYNC_PERIOD": "soon"}, "AZURE_SYNC_PERIOD"),
        ({"MAX_CONCURRENT_RECONCILES": "0"}, "MAX_CONCURRENT_RECONCILES"),
        ({"ASO_DEFAULT_RECONCILE_POLICY": "yolo"}, "ASO_DEFAULT_RECONCILE_POLICY"),
        ({"AZURE_RESOURCE_MANAGER_ENDPOINT": "http://plain"}, "AZURE_RESOURCE_MANAGER_ENDPOINT"),
        ({"ASO_ARM_RATE_LIMIT": "fast"}, "ASO_ARM_RATE_LIMIT"),
    ]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env(env)


def test_operation_record_is_parsed_strictly() -> None:
    settings = Settings(arm_endpoint="https://127.0.0.1:8443/")
    op = Operation(
        method="PUT", arm_id="/x", api_version="2020-06-01", status_url="https://127.0.0.1:8443/op?a=1"
    )
    assert Operation.from_annotation(op.to_annotation(), settings) == op
    bad = [
        "not json",
        json.dumps([1]),
        json.dumps({"method": "POST", "arm_id": "/x", "api_version": "v"}),
        json.dumps(
            {"method": "PUT", "arm_id": "/x", "api_version": "v", "status_url": "https://evil.test/op"}
        ),
        json.dumps(
            {"method": "PUT", "arm_id": "/x", "api_version": "v", "location_url": "https://127.0.0.1:9999/op"}
        ),
        json.dumps({"method": "PUT", "arm_id": "/x", "api_version": "v", "pickle": "gASV"}),
    ]
    for raw in bad:
        with pytest.raises(OperationRejected):
            Operation.from_annotation(raw, settings)


@pytest.mark.parametrize(
    ("status", "code", "retry", "severity"),
    [
        (429, "SubscriptionRequestsThrottled", True, "Warning"),
        (500, "InternalServerError", True, "Warning"),
        (0, "NetworkError", True, "Warning"),
        (409, "Conflict", True, "Warning"),
        (403, "AuthorizationFailed", True, "Warning"),
        (404, "ParentResourceNotFound", True, "Warning"),
        (400, "InvalidParameter", False, "Error"),
        (400, "BadRequest", False, "Error"),
        (409, "StorageAccountAlreadyTaken", False, "Error"),
    ],
)
def test_classification(status: int, code: str, retry: bool, severity: str) -> None:
    result = classify(ArmErrorInfo(status=status, code=code, message="m", retry_after=3.0))
    assert (result.retry, result.severity, result.reason) == (retry, severity, code)


def test_error_severities() -> None:
    assert RetryableError("m", reason="r").severity == "Warning"
    assert PermanentError("m", reason="r").severity == "Error"


def test_rate_limiter_spaces_requests_after_the_burst() -> None:
    async def run() -> float:
        limiter = RateLimiter(rate=50, burst=5)
        started = time.monotonic()
        for _ in range(15):
            await limiter.acquire("sub")
        await limiter.acquire("other-sub")  # other subscriptions have their own bucket
        return time.monotonic() - started

    elapsed = asyncio.run(run())
    assert 0.17 <= elapsed < 1.0  # 10 tokens beyond the burst at 50/s take about 0.2 s


def test_arm_ids() -> None:
    rg = "/subscriptions/s1/resourceGroups/rg"
    account = child_id(rg, "Microsoft.Storage/storageAccounts", "acct")
    assert account == f"{rg}/providers/Microsoft.Storage/storageAccounts/acct"
    blob = child_id(account, "Microsoft.Storage/storageAccounts/blobServices", "default")
    assert blob == f"{account}/blobServices/default"
    container = child_id(blob, "Microsoft.Storage/storageAccounts/blobServices/containers", "c1")
    assert container == f"{blob}/containers/c1"
    assert child_id(account, "Microsoft.Authorization/roleAssignments", "r", extension=True) == (
        f"{account}/providers/Microsoft.Authorization/roleAssignments/r"
    )
    assert subscription_of(container) == "s1"
    assert resource_type_of(f"https://h:1{container}?api-version=1") == (
        "Microsoft.Storage/storageAccounts/blobServices/containers"
    )
    assert resource_type_of(f"{rg}?api-version=1") == "Microsoft.Resources/resourceGroups"
    assert resource_type_of("https://h/subscriptions/s/operationresults/x?api-version=1") == "operations"


def test_build_ready_keeps_transition_time_while_state_holds() -> None:
    first = build_ready(
        ready=False, severity="Warning", reason="WaitingForOwner", message="a", generation=1, previous=None
    )
    first["lastTransitionTime"] = "2001-02-03T04:05:06Z"
    same = build_ready(
        ready=False, severity="Warning", reason="WaitingForOwner", message="b", generation=2, previous=first
    )
    assert same["lastTransitionTime"] == "2001-02-03T04:05:06Z"
    assert same["observedGeneration"] == 2
    done = build_ready(ready=True, severity="", reason="Succeeded", message="", generation=2, previous=same)
    assert done["lastTransitionTime"] != "2001-02-03T04:05:06Z"
    assert "severity" not in done


RG_RULE = NameRule(min_length=1, max_length=90, pattern=r"[-\w._()]*[-\w_()]", description="rg rule")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("rg", None),
        ("My_Group-(1).x", None),
        ("a" * 90, None),
        ("a" * 91, "must be 1-90 characters long (is 91)"),
        ("ends.", "must match"),
        ("a b", "must match"),
        ("a/b", "may not contain '/'"),
        ("rg#1", "may not contain '#'"),
        ("a?b", "may not contain '?'"),
        ("a%2F", "may not contain '%'"),
        ("a\\b", "may not contain '\\\\'"),
        ("a\nb", "may not contain '\\n'"),
        ("..", "'.' and '..' are not resource names"),
        ("", "must be 1-90 characters long (is 0)"),
    ],
)
def test_name_rule(name: str, problem: str | None) -> None:
    found = RG_RULE.problem(name)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_general_name_rule_applies_to_every_kind() -> None:
    assert GENERAL_NAME_RULE.problem("x" * 500) is None
    assert GENERAL_NAME_RULE.problem("a<b") is not None
    assert GENERAL_NAME_RULE.problem(".") is not None


@pytest.mark.parametrize(
    ("arm_id", "arm_type", "ok"),
    [
        ("/subscriptions/s/resourceGroups/rg", "Microsoft.Resources/resourceGroups", True),
        ("/subscriptions/s/resourcegroups/rg", "microsoft.resources/RESOURCEGROUPS", True),
        ("/subscriptions/s", "Microsoft.Resources/subscriptions", True),
        ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a", None, True),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/blobServices/"
            "default/containers/c",
            "Microsoft.Storage/storageAccounts/blobServices/containers",
            True,
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/providers/"
            "Microsoft.Authorization/roleAssignments/r",
            "Microsoft.Authorization/roleAssignments",
            True,
        ),
        # a name that smuggles in a path: another type at another depth
        (
            "/subscriptions/s/resourceGroups/victim/providers/Microsoft.Storage/storageAccounts/acct",
            "Microsoft.Resources/resourceGroups",
            False,
        ),
        # a child one level short or deep
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/blobServices/d",
            "Microsoft.Storage/storageAccounts/blobServices/containers",
            False,
        ),
        ("/subscriptions/s/resourceGroups/rg#1", None, False),
        ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts", None, False),
        ("/subscriptions/s/resourceGroups", None, False),
        ("/subscriptions//resourceGroups/rg", None, False),
        ("subscriptions/s/resourceGroups/rg", None, False),
        ("/tenants/t/resourceGroups/rg", None, False),
        ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/..", None, False),
    ],
)
def test_id_problem(arm_id: str, arm_type: str | None, ok: bool) -> None:
    assert (id_problem(arm_id, arm_type) is None) is ok


def test_url_path_encodes_every_segment() -> None:
    assert (
        url_path("/subscriptions/s/resourceGroups/a(b) é")
        == "/subscriptions/s/resourceGroups/a%28b%29%20%C3%A9"
    )


@pytest.mark.parametrize("port", ["abc", "99999", "-1", "1:2"])
def test_operation_record_with_a_malformed_url_is_rejected(port: str) -> None:
    settings = Settings(arm_endpoint="https://127.0.0.1:8443")
    raw = json.dumps(
        {
            "method": "PUT",
            "arm_id": "/subscriptions/s/resourceGroups/rg",
            "api_version": "2020-06-01",
            "status_url": f"https://127.0.0.1:{port}/op",
        }
    )
    with pytest.raises(OperationRejected):
        Operation.from_annotation(raw, settings)


def test_token_failures_are_authentication_failed() -> None:
    result = classify(ArmErrorInfo(status=0, code="AuthenticationFailed", message="AADSTS7000215: x"))
    assert (result.retry, result.severity, result.reason) == (True, "Error", "AuthenticationFailed")


def test_claim_index_follows_watch_events() -> None:
    index = ClaimIndex()

    def obj(uid: str, created: str, arm_id: str | None, policy: str | None = None) -> dict[str, Any]:
        annotations = {}
        if arm_id:
            annotations["serviceoperator.azure.com/resource-id"] = arm_id
        if policy:
            annotations["serviceoperator.azure.com/reconcile-policy"] = policy
        meta = {
            "uid": uid,
            "name": uid,
            "namespace": "ns",
            "creationTimestamp": created,
            "annotations": annotations,
        }
        return {"metadata": meta}

    rg = "/subscriptions/s/resourceGroups/Shared"
    index.observe("ResourceGroup", obj("b", "2026-01-02T00:00:00Z", rg))
    index.observe("ResourceGroup", obj("a", "2026-01-01T00:00:00Z", rg.lower()))
    index.observe("ResourceGroup", obj("c", "2026-01-01T00:00:00Z", rg, policy="skip"))  # reads only
    assert [c.uid for c in index.lookup(rg.upper())] == ["a", "b"]  # oldest first, any casing
    index.observe("ResourceGroup", obj("a", "2026-01-01T00:00:00Z", None))  # claim dropped
    assert [c.uid for c in index.lookup(rg)] == ["b"]
    index.observe("ResourceGroup", obj("b", "2026-01-02T00:00:00Z", rg), deleted=True)
    assert index.lookup(rg) == []


class _SecretLookups:
    """The one Lookups call a Resolver makes for a Secret: the object, or None when missing."""

    def __init__(self, secrets: Mapping[str, Mapping[str, Any]]) -> None:
        self.secrets = secrets

    async def secret(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.secrets.get(name)


def test_resolver_fingerprints_secrets_by_name_and_version_never_value() -> None:
    import base64

    from aso.operator.lookups import Resolver

    value = base64.b64encode(b"hunter2-password").decode()
    lookups = _SecretLookups(
        {
            "b-secret": {"metadata": {"resourceVersion": "41"}, "data": {"password": value}},
            "a-secret": {"metadata": {"resourceVersion": "7"}, "data": {"key": value}},
        }
    )
    resolver = Resolver(lookups, "ns")  # type: ignore[arg-type]
    assert resolver.secrets_fingerprint() is None
    assert (
        asyncio.run(resolver.secret("b-secret", "password", "administratorLoginPassword"))
        == "hunter2-password"
    )
    asyncio.run(resolver.secret("a-secret", "key", "other"))
    fingerprint = resolver.secrets_fingerprint()
    assert fingerprint == "a-secret=7,b-secret=41"
    assert "hunter2" not in fingerprint
    assert value not in fingerprint
    with pytest.raises(RetryableError) as missing:
        asyncio.run(resolver.secret("gone", "password", "administratorLoginPassword"))
    assert missing.value.reason == "SecretNotFound"
    assert "'password'" in missing.value.message
    assert resolver.secrets_fingerprint() == "a-secret=7,b-secret=41"
