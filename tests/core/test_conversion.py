"""Hub-and-spoke conversion: round trips over the ASO samples through every served and storage
version, the property bag, the original version, the webhook."""

from __future__ import annotations

import copy
import json
import pathlib
import ssl
from typing import Any

import aiohttp
import pytest
import trustme
import yaml
from aiohttp import web

from aso.conversion import (
    ORIGINAL_VERSION_ANNOTATION,
    PROPERTY_BAG_ANNOTATION,
    ConversionError,
    conversion_app,
    convert,
    original_version,
    review,
    written_body,
)
from aso.host import Registry


def _served_samples(registry: Registry, conformance: pathlib.Path) -> list[dict[str, Any]]:
    docs = []
    for path in sorted((conformance / "aso-samples").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            group, _, version = doc["apiVersion"].rpartition("/")
            kind = registry.kind(group, doc["kind"])
            if kind is not None and any(v.name == version for v in kind.versions):
                docs.append(doc)
    assert docs
    return docs


def _body(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: obj.get(k) for k in ("apiVersion", "kind", "spec", "status")}


def test_every_sample_round_trips_through_every_version(
    registry: Registry, conformance: pathlib.Path
) -> None:
    for doc in _served_samples(registry, conformance):
        group, _, _version = doc["apiVersion"].rpartition("/")
        kind = registry.kind(group, doc["kind"])
        assert kind is not None
        for other in (*(v.name for v in kind.versions), *kind.storage_versions()):
            there = convert(registry, doc, f"{group}/{other}")
            assert there["apiVersion"] == f"{group}/{other}"
            back = convert(registry, there, doc["apiVersion"])
            assert _body(back) == _body(doc), (doc["metadata"]["name"], other)


def _widget_v2() -> dict[str, Any]:
    return {
        "apiVersion": "test.aso.dev/v1api20250101",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default", "annotations": {"keep": "me"}},
        "spec": {"owner": {"name": "rg"}, "location": "westus", "tier": "Large", "capacity": 3},
        "status": {"capacity": 3, "provisioningState": "Succeeded"},
    }


def test_field_missing_from_hub_survives_in_property_bag(registry: Registry) -> None:
    spoke = _widget_v2()
    hub = convert(registry, spoke, "test.aso.dev/v1api20240101")
    assert hub["spec"] == {"owner": {"name": "rg"}, "location": "westus", "size": "Large"}
    assert hub["status"] == {"provisioningState": "Succeeded"}
    annotations = hub["metadata"]["annotations"]
    assert json.loads(annotations[PROPERTY_BAG_ANNOTATION]) == {"spec.capacity": 3, "status.capacity": 3}
    assert ORIGINAL_VERSION_ANNOTATION not in annotations  # only storage versions record it
    assert annotations["keep"] == "me"

    back = convert(registry, hub, "test.aso.dev/v1api20250101")
    assert back["spec"] == spoke["spec"]
    assert back["status"] == spoke["status"]
    assert PROPERTY_BAG_ANNOTATION not in back["metadata"]["annotations"]


def test_removing_a_bagged_field_in_its_own_version_removes_it(registry: Registry) -> None:
    hub = convert(registry, _widget_v2(), "test.aso.dev/v1api20240101")
    spoke = convert(registry, hub, "test.aso.dev/v1api20250101")
    del spoke["spec"]["capacity"]
    hub_again = convert(registry, spoke, "test.aso.dev/v1api20240101")
    assert json.loads(hub_again["metadata"]["annotations"][PROPERTY_BAG_ANNOTATION]) == {"status.capacity": 3}


def test_original_version_is_recorded_in_the_storage_version_and_read(registry: Registry) -> None:
    kind = registry.kind("test.aso.dev", "Widget")
    assert kind is not None
    stored = convert(registry, _widget_v2(), "test.aso.dev/v1api20240101storage")
    assert stored["spec"]["originalVersion"] == "v1api20250101"
    assert stored["spec"]["size"] == "Large"
    assert original_version(kind, stored) == "v1api20250101"
    assert original_version(kind, {"metadata": {}}) == "v1api20240101"
    gone = copy.deepcopy(stored)
    gone["spec"]["originalVersion"] = "v1api19990101"  # a version no longer served: the hub
    assert original_version(kind, gone) == "v1api20240101"


def test_a_write_at_the_hub_records_the_hub(registry: Registry) -> None:
    """The stale annotation of earlier releases: a write at the hub now always says so."""
    stored = convert(registry, _widget_v2(), "test.aso.dev/v1api20240101storage")
    read = convert(registry, stored, "test.aso.dev/v1api20240101")
    assert "originalVersion" not in read["spec"]
    assert ORIGINAL_VERSION_ANNOTATION not in read["metadata"]["annotations"]
    read["spec"]["location"] = "eastus"
    again = convert(registry, read, "test.aso.dev/v1api20240101storage")
    assert again["spec"]["originalVersion"] == "v1api20240101"
    # and back through the other version: the bagged field is still there
    assert convert(registry, again, "test.aso.dev/v1api20250101")["spec"]["capacity"] == 3


def test_storage_to_storage_keeps_what_was_recorded(registry: Registry) -> None:
    stored = convert(registry, _widget_v2(), "test.aso.dev/v1api20240101storage")
    other = convert(registry, stored, "test.aso.dev/v1api20250101storage")
    assert other["spec"]["originalVersion"] == "v1api20250101"
    assert other["spec"]["tier"] == "Large"
    assert convert(registry, other, "test.aso.dev/v1api20240101storage")["spec"] == stored["spec"]


def test_object_stored_by_an_earlier_release_keeps_its_annotated_version(registry: Registry) -> None:
    kind = registry.kind("test.aso.dev", "Widget")
    assert kind is not None
    legacy = convert(registry, _widget_v2(), "test.aso.dev/v1api20240101")
    legacy["metadata"]["annotations"][ORIGINAL_VERSION_ANNOTATION] = "v1api20250101"
    assert original_version(kind, legacy) == "v1api20250101"
    stored = convert(registry, legacy, "test.aso.dev/v1api20240101storage")
    assert stored["spec"]["originalVersion"] == "v1api20250101"
    assert ORIGINAL_VERSION_ANNOTATION not in stored["metadata"]["annotations"]


def test_written_body_has_the_shape_of_the_version_written(registry: Registry) -> None:
    """What the reconciler maps with the written version's schema and api-version: a field that
    version renames is where that schema expects it (the hub's shape would lose it)."""
    kind = registry.kind("test.aso.dev", "Widget")
    assert kind is not None
    stored = convert(registry, _widget_v2(), "test.aso.dev/v1api20240101storage")
    written = written_body(kind, stored)
    assert written["apiVersion"] == "test.aso.dev/v1api20250101"
    assert written["spec"] == _widget_v2()["spec"]
    at_hub = convert(
        registry,
        _widget_v2() | {"apiVersion": "test.aso.dev/v1api20240101"},
        "test.aso.dev/v1api20240101storage",
    )
    assert written_body(kind, at_hub)["apiVersion"] == "test.aso.dev/v1api20240101"


def test_aso_property_bags_are_read_and_removed(registry: Registry) -> None:
    """ASO v2 keeps what its storage type lacks in ``$propertyBag`` (Go names; strings bare, other
    values as JSON): each entry reaches the version that has a place for it."""
    aso_stored = {
        "apiVersion": "test.aso.dev/v1api20240101storage",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default"},
        "spec": {
            "$propertyBag": {"Capacity": "7", "Colour": "blue"},
            "location": "westus",
            "originalVersion": "v1api20250101",
            "owner": {"name": "rg"},
            "size": "Small",
        },
        "status": {"$propertyBag": {"Capacity": "7"}, "provisioningState": "Succeeded"},
    }
    spoke = convert(registry, aso_stored, "test.aso.dev/v1api20250101")
    assert spoke["spec"]["capacity"] == 7
    assert spoke["spec"]["tier"] == "Small"
    assert spoke["status"]["capacity"] == 7
    assert json.loads(spoke["metadata"]["annotations"][PROPERTY_BAG_ANNOTATION]) == {"spec.colour": "blue"}
    hub = convert(registry, aso_stored, "test.aso.dev/v1api20240101")
    assert "$propertyBag" not in hub["spec"]
    assert "$propertyBag" not in hub["status"]
    assert json.loads(hub["metadata"]["annotations"][PROPERTY_BAG_ANNOTATION]) == {
        "spec.capacity": 7,
        "spec.colour": "blue",
        "status.capacity": 7,
    }


@pytest.mark.parametrize(
    ("obj", "desired", "message"),
    [
        ({"kind": "Widget"}, "test.aso.dev/v1api20240101", "apiVersion and kind are required"),
        (
            {"apiVersion": "test.aso.dev/v9", "kind": "Widget"},
            "test.aso.dev/v1api20240101",
            "does not serve version 'v9'",
        ),
        (
            {"apiVersion": "test.aso.dev/v9storage", "kind": "Widget"},
            "test.aso.dev/v1api20240101",
            "does not serve version 'v9'",
        ),
        (
            {"apiVersion": "test.aso.dev/v1api20240101", "kind": "Gadget"},
            "test.aso.dev/v1api20240101",
            "Gadget",
        ),
        ({"apiVersion": "test.aso.dev/v1api20240101", "kind": "Widget"}, "other.dev/v1", "group differs"),
    ],
)
def test_bad_objects_raise_conversion_error(registry: Registry, obj: Any, desired: str, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        convert(registry, obj, desired)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "expected a ConversionReview JSON object"),
        ({"apiVersion": "apiextensions.k8s.io/v1"}, "request: required object is missing"),
        ({"request": {"desiredAPIVersion": "a/b", "objects": []}}, "request.uid"),
        ({"request": {"uid": "u1", "objects": []}}, "request.desiredAPIVersion"),
        ({"request": {"uid": "u1", "desiredAPIVersion": "test.aso.dev/v1api20240101"}}, "request.objects"),
        (
            {
                "request": {
                    "uid": "u1",
                    "desiredAPIVersion": "test.aso.dev/v1api20240101",
                    "objects": [{"kind": 1}],
                }
            },
            "request.objects[0]: object: apiVersion and kind",
        ),
    ],
)
def test_malformed_review_gets_failed_result(registry: Registry, body: Any, message: str) -> None:
    answer = review(registry, body)
    assert answer["kind"] == "ConversionReview"
    assert answer["response"]["result"]["status"] == "Failed"
    assert message in answer["response"]["result"]["message"]
    assert "convertedObjects" not in answer["response"]


async def test_webhook_serves_conversion_review_over_https(
    registry: Registry, tmp_path: pathlib.Path
) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    runner = web.AppRunner(conversion_app(registry))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"https://127.0.0.1:{port}/convert"
    try:
        request = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "ConversionReview",
            "request": {
                "uid": "abc-1",
                "desiredAPIVersion": "test.aso.dev/v1api20240101",
                "objects": [_widget_v2()],
            },
        }
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=request, ssl=client_ctx) as resp:
                assert resp.status == 200
                answer = await resp.json()
            async with session.post(url, data=b"{not json", ssl=client_ctx) as resp:
                assert resp.status == 200
                broken = await resp.json()
        assert answer["response"]["uid"] == "abc-1"
        assert answer["response"]["result"] == {"status": "Success"}
        (converted,) = answer["response"]["convertedObjects"]
        assert converted["apiVersion"] == "test.aso.dev/v1api20240101"
        assert converted["spec"]["size"] == "Large"
        assert broken["response"]["result"]["status"] == "Failed"
    finally:
        await runner.cleanup()
