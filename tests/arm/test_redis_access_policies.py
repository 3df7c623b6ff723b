"""Redis access control (``Microsoft.Cache/Redis/accessPolicies`` and ``accessPolicyAssignments``)
as Azure answers it in ASO v2's Test_Cache_Redis_20241101_CRUD recording and the REST reference."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from aso.armprofiles import ArmLro
from aso.testing.arm import ArmHttp

from .conftest import unique

API = "2024-11-01"
CACHE = {
    "location": "westus2",
    "properties": {"redisVersion": "6", "sku": {"name": "Premium", "family": "P", "capacity": 1}},
}


class Client:
    """Plain HTTP at this API version (status codes and headers as sent), with the polls these
    tests need."""

    def __init__(self, http: ArmHttp) -> None:
        self.http = http
        self.session = http.session

    def call(self, method: str, rid: str, body: Any = None) -> requests.Response:
        return self.http.call(method, rid, API, body)

    def operation_status(self, started: requests.Response) -> str:
        """Poll the operation a write announced until it is no longer running; its status."""
        url = started.headers["Azure-AsyncOperation"]
        for _ in range(20):
            status: str = self.session.get(url, timeout=10).json()["status"]
            if status not in ("InProgress", "Accepted", "Running"):
                return status
        raise AssertionError(f"operation {url} never ended")

    def cache(self, rg: str) -> str:
        """A Premium cache, read until it is no longer being created."""
        rid = f"{rg}/providers/Microsoft.Cache/redis/{unique('redis')}"
        assert self.call("PUT", rid, CACHE).status_code == 201
        for _ in range(20):
            if self.call("GET", rid).json()["properties"]["provisioningState"] == "Succeeded":
                return rid
        raise AssertionError(f"{rid} never finished")


@pytest.fixture
def client(arm_http: ArmHttp) -> Client:
    return Client(arm_http)


def _assert_runs_as_operation(answer: requests.Response, status: int) -> None:
    """Every write is an operation announced by both headers, at the same status URL."""
    assert answer.status_code == status
    assert answer.headers["Azure-AsyncOperation"]
    assert answer.headers["Location"]
    assert "Retry-After" not in answer.headers


def test_a_policy_is_created_and_updated_as_an_operation_answered_201_updating(
    client: Client, rg: str
) -> None:
    cache = client.cache(rg)
    policy = f"{cache}/accessPolicies/{unique('policy')}"
    made = client.call("PUT", policy, {"properties": {"permissions": "+get +set"}})
    _assert_runs_as_operation(made, 201)
    # Azure reports "Updating" while a new policy is being written, not "Creating".
    assert made.json()["properties"]["provisioningState"] == "Updating"
    assert client.operation_status(made) == "Succeeded"
    got = client.call("GET", policy).json()
    assert got["type"] == "Microsoft.Cache/Redis/accessPolicies"
    assert got["properties"]["provisioningState"] == "Succeeded"

    changed = client.call("PUT", policy, {"properties": {"permissions": "+get +set +del"}})
    _assert_runs_as_operation(changed, 201)  # an update is answered 201 as well
    assert changed.json()["properties"]["provisioningState"] == "Updating"
    assert client.operation_status(changed) == "Succeeded"
    assert client.call("GET", policy).json()["properties"]["permissions"] == "+get +set +del allkeys"


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        ("+get +set", "+get +set allkeys"),
        ("+@read", "+@read allkeys"),
        ("+get ~app:*", "+get ~app:*"),
        ("+@all %R~cache:*", "+@all %R~cache:*"),
        ("%RW~* +set", "%RW~* +set"),
        ("+get allkeys", "+get allkeys"),
    ],
)
def test_a_rule_without_a_key_pattern_gets_all_keys(
    client: Client, rg: str, sent: str, answered: str
) -> None:
    cache = client.cache(rg)
    policy = f"{cache}/accessPolicies/{unique('policy')}"
    made = client.call("PUT", policy, {"properties": {"permissions": sent}})
    assert made.json()["properties"]["permissions"] == answered
    assert client.operation_status(made) == "Succeeded"
    assert client.call("GET", policy).json()["properties"]["permissions"] == answered


def test_a_policy_the_client_writes_is_custom_whatever_it_says(client: Client, rg: str) -> None:
    cache = client.cache(rg)
    policy = f"{cache}/accessPolicies/{unique('policy')}"
    made = client.call("PUT", policy, {"properties": {"permissions": "+get", "type": "BuiltIn"}})
    assert made.json()["properties"]["type"] == "Custom"
    client.operation_status(made)
    assert client.call("GET", policy).json()["properties"]["type"] == "Custom"


def test_deletes_run_as_operations_answered_202(client: Client, rg: str) -> None:
    cache = client.cache(rg)
    policy = f"{cache}/accessPolicies/{unique('policy')}"
    client.operation_status(client.call("PUT", policy, {"properties": {"permissions": "+get"}}))
    assignment = f"{cache}/accessPolicyAssignments/{unique('assignment')}"
    body = {
        "properties": {
            "accessPolicyName": policy.rsplit("/", 1)[1],
            "objectId": "0" * 8,
            "objectIdAlias": "u",
        }
    }
    client.operation_status(client.call("PUT", assignment, body))
    for rid in (assignment, policy):
        gone = client.call("DELETE", rid)
        _assert_runs_as_operation(gone, 202)
        assert client.operation_status(gone) == "Succeeded"
        assert client.call("GET", rid).status_code == 404


def test_an_assignment_is_written_as_an_operation_and_keeps_what_was_sent(client: Client, rg: str) -> None:
    cache = client.cache(rg)
    assignment = f"{cache}/accessPolicyAssignments/{unique('assignment')}"
    sent = {"accessPolicyName": "Data Reader", "objectId": "6a6f5bd5-0000-4000-8000-000000000001"}
    made = client.call("PUT", assignment, {"properties": {**sent, "objectIdAlias": "test-user"}})
    _assert_runs_as_operation(made, 201)
    assert made.json()["properties"]["provisioningState"] == "Updating"
    assert client.operation_status(made) == "Succeeded"
    changed = client.call("PUT", assignment, {"properties": {**sent, "objectIdAlias": "updated-user"}})
    _assert_runs_as_operation(changed, 201)
    assert client.operation_status(changed) == "Succeeded"
    got = client.call("GET", assignment).json()
    assert got["type"] == "Microsoft.Cache/Redis/accessPolicyAssignments"
    assert got["properties"] == {**sent, "objectIdAlias": "updated-user", "provisioningState": "Succeeded"}


@pytest.mark.parametrize("child", ["accessPolicies", "accessPolicyAssignments"])
def test_writes_are_refused_while_the_cache_is_being_created(client: Client, rg: str, child: str) -> None:
    cache = f"{rg}/providers/Microsoft.Cache/redis/{unique('redis')}"
    assert client.call("PUT", cache, CACHE).status_code == 201
    busy = client.call("PUT", f"{cache}/{child}/{unique('acl')}", {"properties": {"permissions": "+get"}})
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "Conflict")
    assert cache.rsplit("/", 1)[1] in busy.json()["error"]["message"]
    assert "is busy processing a previous update request" in busy.json()["error"]["message"]


@pytest.mark.parametrize("child", ["accessPolicies", "accessPolicyAssignments"])
def test_a_request_whose_cache_is_gone_is_not_found(client: Client, rg: str, child: str) -> None:
    missing = f"{rg}/providers/Microsoft.Cache/redis/{unique('redis')}/{child}/{unique('acl')}"
    for method, body in (("GET", None), ("PUT", {"properties": {"permissions": "+get"}}), ("DELETE", None)):
        answer = client.call(method, missing, body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "ResourceNotFound"), method


def test_the_state_a_create_reports_is_validated() -> None:
    assert ArmLro().creating_state == "Creating"
    assert ArmLro(mode="async", creating_state="Updating").problems() == []
    assert any(p.startswith("creating_state") for p in ArmLro(mode="async", creating_state="").problems())
