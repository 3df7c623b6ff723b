"""Fault injection, request counts and out-of-band changes, seen through real SDK clients."""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.mgmt.resource.resources import ResourceManagementClient

from aso.testing.arm import ArmEmulatorHandle, ArmHttp

from .conftest import API, WIDGETS, error_code, props


def test_throttling_is_retried_by_the_sdk(
    arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient, rg: str
) -> None:
    name = rg.rsplit("/", 1)[1]
    arm_emulator.control.reset_counts()
    arm_emulator.control.throttle(f"/resourcegroups/{name}\\?", method="GET", count=2, retry_after=0)
    assert rm.resource_groups.get(name).name == name
    assert arm_emulator.control.counts().get("GET", "Microsoft.Resources/resourceGroups") == 3
    assert arm_emulator.control.faults() == []


def test_throttle_shape(arm_emulator: ArmEmulatorHandle, rg: str) -> None:
    arm_http = ArmHttp(arm_emulator)
    arm_emulator.control.throttle("resourcegroups", retry_after=7, count=2)
    resp = arm_http.call("GET", rg, "2020-06-01")
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "7"
    assert resp.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    # The control API says how often each rule fired (a test asks "was it retried?").
    assert [rule["hits"] for rule in arm_emulator.control.faults()] == [1]


def test_server_errors_surface_after_retries(
    arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient, rg: str
) -> None:
    name = rg.rsplit("/", 1)[1]
    arm_emulator.control.inject_fault(
        f"resourcegroups/{name}", method="PUT", status=400, code="Nope", count=1
    )
    with pytest.raises(HttpResponseError) as info:
        rm.resource_groups.create_or_update(name, {"location": "westus2"})
    assert error_code(info.value) == "Nope"
    # 503 is retried by azure-core's retry policy: one fault, then success.
    arm_emulator.control.inject_fault(f"resourcegroups/{name}", method="PUT", status=503, count=1)
    rm.resource_groups.create_or_update(name, {"location": "westus2"})


def test_connection_reset(arm_emulator: ArmEmulatorHandle, rg: str) -> None:
    client = arm_emulator.resource_client()
    client._config.retry_policy.total_retries = 0  # see the raw failure, not the SDK's retry
    arm_emulator.control.reset_connection(rg.rsplit("/", 1)[1], method="GET")
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        client.resource_groups.get(rg.rsplit("/", 1)[1])
    # The rule is used up; the next request is answered.
    assert client.resource_groups.get(rg.rsplit("/", 1)[1]).id == rg


def test_slow_response(arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient, rg: str) -> None:
    arm_emulator.control.slow_down("resourcegroups", delay=0.4, method="GET")
    start = time.monotonic()
    rm.resource_groups.get(rg.rsplit("/", 1)[1])
    assert time.monotonic() - start >= 0.4


def test_drift_and_out_of_band_delete(
    arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient, rg: str
) -> None:
    rid = f"{rg}/providers/{WIDGETS}/d"
    rm.resources.begin_create_or_update_by_id(
        rid, {"properties": {"size": 1}, "tags": {"a": "b"}}, api_version=API
    ).result()
    arm_emulator.control.drift(rid, {"properties": {"size": 2}, "tags": {"changed": "yes"}})
    got = rm.resources.get_by_id(rid, api_version=API)
    assert props(got)["size"] == 2
    assert got.tags == {"changed": "yes"}
    arm_emulator.control.delete_resource(rid)
    assert rm.resources.check_existence_by_id(rid, api_version=API) is False


def test_counts_and_listing(arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient, rg: str) -> None:
    arm_emulator.control.reset_counts()
    for i in range(3):
        rm.resources.begin_create_or_update_by_id(
            f"{rg}/providers/{WIDGETS}/c{i}", {"properties": {}}, api_version=API
        ).result()
    rm.resources.get_by_id(f"{rg}/providers/{WIDGETS}/c0", api_version=API)
    counts = arm_emulator.control.counts()
    assert counts.get("PUT", WIDGETS) == 3
    # A generic resource's 201 carries no provisioningState: the SDK reads it once to see it done.
    assert counts.get("GET", WIDGETS) == 3 + 1
    assert counts.of_type(WIDGETS) == 7
    assert sorted(r["id"].rsplit("/", 1)[1] for r in arm_emulator.control.resources(WIDGETS)) == [
        "c0",
        "c1",
        "c2",
    ]
    arm_emulator.control.reset_counts()
    assert arm_emulator.control.counts().total == 0
