"""Server-side Table output and the OpenAPI documents kubectl reads."""

from __future__ import annotations

from typing import Any

import urllib3

from aso.sandbox.kube.tables import human_duration
from aso.testing.kube import KubeApi

from .conftest import GROUP, PLURAL, raw, widget

TABLE = ",".join(
    [
        "application/json;as=Table;v=v1;g=meta.k8s.io",
        "application/json;as=Table;v=v1beta1;g=meta.k8s.io",
        "application/json",
    ]
)


def test_table_of_custom_resources_uses_printer_columns(kube_api: KubeApi, custom: Any) -> None:
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    custom.patch_namespaced_custom_object_status(
        GROUP,
        "v1",
        "default",
        PLURAL,
        "w1",
        {
            "status": {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "False",
                        "severity": "Warning",
                        "reason": "Failed",
                        "message": "quota",
                    }
                ]
            }
        },
    )
    reply = raw(kube_api, "GET", f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}", accept=TABLE)
    assert reply.headers["Content-Type"].startswith("application/json;as=Table")
    table = reply.body
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert [(c["name"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", 0),
        ("Ready", 0),
        ("Severity", 0),
        ("Reason", 0),
        ("Message", 1),
    ]
    assert table["rows"][0]["cells"] == ["w1", "False", "Warning", "Failed", "quota"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    single = raw(
        kube_api, "GET", f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}/w1?includeObject=Object", accept=TABLE
    )
    assert single.body["rows"][0]["object"]["spec"]["size"] == "small"


def test_table_of_builtin_kinds(kube_api: KubeApi, core: Any) -> None:
    core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"}})
    table = raw(kube_api, "GET", "/api/v1/namespaces/default/configmaps", accept=TABLE).body
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert table["rows"][0]["cells"][:2] == ["cfg", 2]
    assert table["rows"][0]["cells"][2].endswith("s")


def test_human_durations_match_kubectl() -> None:
    assert [
        human_duration(s) for s in (5, 119, 150, 600, 7200, 16200, 30 * 3600, 3 * 86400 + 3600, 400 * 86400)
    ] == [
        "5s",
        "119s",
        "2m30s",
        "10m",
        "120m",
        "4h30m",
        "30h",
        "3d1h",
        "400d",
    ]


def test_openapi_v3_announces_field_validation_and_crd_schema(kube_api: KubeApi) -> None:
    root = raw(kube_api, "GET", "/openapi/v3").body
    url = root["paths"][f"apis/{GROUP}/v1"]["serverRelativeURL"]
    assert url.startswith(f"/openapi/v3/apis/{GROUP}/v1?hash=")
    assert "api/v1" in root["paths"]
    doc = raw(kube_api, "GET", url).body
    schema = doc["components"]["schemas"]["dev.aso.test.v1.Widget"]
    assert schema["x-kubernetes-group-version-kind"] == [{"group": GROUP, "version": "v1", "kind": "Widget"}]
    assert schema["properties"]["spec"]["properties"]["size"]["enum"] == ["small", "medium", "large"]
    patch = doc["paths"][f"/apis/{GROUP}/v1/namespaces/{{namespace}}/{PLURAL}/{{name}}"]["patch"]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Widget"
    assert raw(kube_api, "GET", "/openapi/v3/apis/nope/v1").status == 404


def test_openapi_v2_is_json(kube_api: KubeApi) -> None:
    doc = raw(kube_api, "GET", "/openapi/v2", accept="application/json").body
    assert doc["swagger"] == "2.0"
    assert "dev.aso.test.v1.Widget" in doc["definitions"]
    assert "io.k8s.api.core.v1.ConfigMap" in doc["definitions"]
    # Protobuf (what kubectl asks for, for kinds /openapi/v3 lacks) is an empty Document:
    # swagger "2.0" and info only, so kubectl finds no such kind (see test_openapi_v2.py).
    protobuf_only = urllib3.request(
        "GET",
        kube_api.url + "/openapi/v2",
        headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"},
    )
    assert protobuf_only.status == 200
    assert (
        protobuf_only.headers["Content-Type"] == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    )
    assert protobuf_only.data.startswith(b"\x0a\x032.0\x12")
