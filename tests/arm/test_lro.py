"""Long-running operation shapes: synchronous, asynchronous with N polls, Location-only, failed."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resource.resources import ResourceManagementClient

from aso.testing.arm import ArmEmulatorHandle, ArmHttp

from .conftest import API, WIDGETS, error_code, props


def _put(arm: ArmEmulatorHandle, rid: str, body: dict[str, Any]) -> requests.Response:
    return ArmHttp(arm).call("PUT", rid, API, body)


def _get(arm: ArmEmulatorHandle, url: str) -> requests.Response:
    """A GET of a URL the emulator handed out (an operation's status, a ``Location``)."""
    return ArmHttp(arm).session.get(url, timeout=10)


def test_generic_types_are_synchronous(arm_emulator: ArmEmulatorHandle, rg: str) -> None:
    resp = _put(arm_emulator, f"{rg}/providers/{WIDGETS}/w", {"properties": {"a": 1}})
    assert resp.status_code == 201
    assert "Azure-AsyncOperation" not in resp.headers
    assert "Location" not in resp.headers
    # ARM's generic resource echoes what it was sent: no invented provisioningState.
    assert resp.json()["properties"] == {"a": 1}
    again = _put(arm_emulator, f"{rg}/providers/{WIDGETS}/w", {"properties": {"a": 2}})
    assert again.status_code == 200


def test_retry_after(arm_emulator: ArmEmulatorHandle, arm_emulator_factory: Any, rg: str) -> None:
    # The test emulator tells clients not to wait, whatever the type says...
    arm_emulator.control.set_lro(WIDGETS, "PUT", mode="async", polls=1, retry_after=7)
    assert (
        _put(arm_emulator, f"{rg}/providers/{WIDGETS}/quick", {"properties": {}}).headers["Retry-After"]
        == "0"
    )
    # ...an emulator without that override answers the type's own value.
    real = arm_emulator_factory(retry_after=None)
    real.control.set_lro(WIDGETS, "PUT", mode="async", polls=1, retry_after=7)
    group = real.resource_client().resource_groups.create_or_update("g", {"location": "westus2"}).id
    assert (
        _put(real, f"{group}/providers/{WIDGETS}/patient", {"properties": {}}).headers["Retry-After"] == "7"
    )
    sql = _put(real, f"{group}/providers/Microsoft.Sql/servers/s1", {"location": "westus2", "properties": {}})
    assert sql.headers["Retry-After"] == "1"  # the SQL profile's value, as recorded


def test_async_put_with_polls(arm_emulator: ArmEmulatorHandle, rg: str) -> None:
    arm_emulator.control.set_lro(WIDGETS, "PUT", mode="async", polls=3)
    rid = f"{rg}/providers/{WIDGETS}/slow"
    resp = _put(arm_emulator, rid, {"location": "westus2", "properties": {}})
    assert resp.status_code == 201
    assert resp.headers["Retry-After"] == "0"
    assert resp.json()["properties"]["provisioningState"] == "Creating"
    status_url = resp.headers["Azure-AsyncOperation"]
    states = [_get(arm_emulator, status_url).json()["status"] for _ in range(3)]
    assert states == ["InProgress", "InProgress", "Succeeded"]
    assert (
        _get(arm_emulator, f"{arm_emulator.endpoint}{rid}?api-version={API}").json()["properties"][
            "provisioningState"
        ]
        == "Succeeded"
    )


def test_async_put_through_the_sdk(
    arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient, rg: str
) -> None:
    arm_emulator.control.set_lro(
        WIDGETS, "PUT", mode="async", polls=2, headers=["Azure-AsyncOperation", "Location"]
    )
    arm_emulator.control.reset_counts()
    made = rm.resources.begin_create_or_update_by_id(
        f"{rg}/providers/{WIDGETS}/sdk", {"properties": {"x": 1}}, api_version=API
    ).result()
    assert props(made)["provisioningState"] == "Succeeded"
    counts = arm_emulator.control.counts()
    assert counts.get("PUT", WIDGETS) == 1
    assert counts.get("GET", "operationStatuses") == 2


def test_location_only_delete(arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient, rg: str) -> None:
    rid = f"{rg}/providers/{WIDGETS}/gone"
    # Made asynchronous before the create: such a type reports its provisioningState.
    arm_emulator.control.set_lro(WIDGETS, "DELETE", mode="async", polls=2, headers=["Location"])
    rm.resources.begin_create_or_update_by_id(rid, {"properties": {}}, api_version=API).result()
    resp = ArmHttp(arm_emulator).call("DELETE", rid, API)
    assert resp.status_code == 202
    assert "Azure-AsyncOperation" not in resp.headers
    location = resp.headers["Location"]
    assert _get(arm_emulator, location).status_code == 202
    assert (
        _get(arm_emulator, f"{arm_emulator.endpoint}{rid}?api-version={API}").json()["properties"][
            "provisioningState"
        ]
        == "Deleting"
    )
    assert _get(arm_emulator, location).status_code == 200
    assert _get(arm_emulator, f"{arm_emulator.endpoint}{rid}?api-version={API}").status_code == 404


def test_failed_operation(arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient, rg: str) -> None:
    arm_emulator.control.set_lro(WIDGETS, "PUT", mode="async", polls=1)
    arm_emulator.control.fail_next_operation(WIDGETS, "InternalServerError", "boom", method="PUT")
    rid = f"{rg}/providers/{WIDGETS}/bad"
    with pytest.raises(HttpResponseError) as info:
        rm.resources.begin_create_or_update_by_id(rid, {"properties": {}}, api_version=API).result()
    assert "InternalServerError" in str(info.value)
    got = rm.resources.get_by_id(rid, api_version=API)
    assert props(got)["provisioningState"] == "Failed"
    # Only the next operation fails: a retry succeeds.
    ok = rm.resources.begin_create_or_update_by_id(rid, {"properties": {}}, api_version=API).result()
    assert props(ok)["provisioningState"] == "Succeeded"


def test_failed_synchronous_operation(
    arm_emulator: ArmEmulatorHandle, rm: ResourceManagementClient, rg: str
) -> None:
    arm_emulator.control.fail_next_operation(WIDGETS, "BadThings", "nope", status=409)
    with pytest.raises(HttpResponseError) as info:
        rm.resources.begin_create_or_update_by_id(
            f"{rg}/providers/{WIDGETS}/x", {"properties": {}}, api_version=API
        ).result()
    assert info.value.status_code == 409
    assert error_code(info.value) == "BadThings"


def test_delay_based_operation_completes_without_polls(arm_emulator: ArmEmulatorHandle, rg: str) -> None:
    import time

    arm_emulator.control.set_lro(WIDGETS, "PUT", mode="async", polls=0, delay=0.3)
    rid = f"{rg}/providers/{WIDGETS}/timed"
    assert _put(arm_emulator, rid, {"properties": {}}).json()["properties"]["provisioningState"] == "Creating"
    time.sleep(0.6)
    assert arm_emulator.control.get_resource(rid)["properties"]["provisioningState"] == "Succeeded"  # type: ignore[index]


def test_deleting_again_joins_the_running_delete_and_polls_it(
    arm_emulator: ArmEmulatorHandle, rg: str
) -> None:
    rid = f"{rg}/providers/{WIDGETS}/again"
    assert _put(arm_emulator, rid, {"properties": {}}).status_code == 201
    arm_emulator.control.set_lro(WIDGETS, "DELETE", mode="async", polls=2, headers=["Azure-AsyncOperation"])

    def delete() -> requests.Response:
        return ArmHttp(arm_emulator).call("DELETE", rid, API)

    first = delete()
    assert first.status_code == 202
    second = delete()  # one poll of the same operation, not a new one
    assert second.status_code == 202
    assert second.headers["Azure-AsyncOperation"] == first.headers["Azure-AsyncOperation"]
    assert delete().status_code == 204  # the second poll ended it: the widget is gone
    assert _get(arm_emulator, f"{arm_emulator.endpoint}{rid}?api-version={API}").status_code == 404
