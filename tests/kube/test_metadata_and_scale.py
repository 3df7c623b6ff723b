"""Partial object metadata (metadata-only clients) and the ``/scale`` subresource of custom resources."""

from __future__ import annotations

import pytest

from aso.schemas import resource_schema
from aso.testing.kube import KubeApi

from .conftest import (
    GROUP,
    PLURAL,
    Json,
    Kubectl,
    group_crd,
    raw,
    served_version,
    watch_events,
    widget,
    widget_crd,
)

pytestmark = pytest.mark.timeout(60)

WIDGETS = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}"
SPROCKETS = f"/apis/{GROUP}/v1/namespaces/default/sprockets"
META_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
META_ITEM = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
# What client-go's metadata client sends: protobuf first, then JSON, then whole objects.
CLIENT_GO_LIST = (
    "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
    f"{META_LIST},application/json"
)


def sprocket_crd() -> Json:
    schema = resource_schema(
        spec={
            "type": "object",
            "properties": {"replicas": {"type": "integer", "maximum": 50}, "color": {"type": "string"}},
        },
        status={
            "type": "object",
            "properties": {"replicas": {"type": "integer"}, "selector": {"type": "string"}},
        },
    )
    scale = {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }
    return group_crd("Sprocket", [served_version("v1", schema, subresources={"status": {}, "scale": scale})])


@pytest.fixture
def kube_crds() -> list[Json]:
    return [widget_crd(), sprocket_crd()]


def sprocket(name: str, replicas: int = 1) -> Json:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Sprocket",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": replicas, "color": "red"},
    }


# -- partial object metadata ------------------------------------------------------------------------


def test_get_and_list_answer_metadata_only(kube_api: KubeApi) -> None:
    created = raw(
        kube_api, "POST", WIDGETS, {**widget("w1"), "metadata": {"name": "w1", "labels": {"a": "b"}}}
    )
    assert created.status == 201
    got = raw(kube_api, "GET", f"{WIDGETS}/w1", accept=META_ITEM)
    assert got.status == 200
    assert got.headers["Content-Type"] == META_ITEM
    assert got.body == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": created.body["metadata"],
    }
    listed = raw(kube_api, "GET", WIDGETS, accept=CLIENT_GO_LIST)
    assert listed.status == 200
    assert listed.body["kind"] == "PartialObjectMetadataList"
    assert listed.body["apiVersion"] == "meta.k8s.io/v1"
    assert listed.body["metadata"]["resourceVersion"]
    assert listed.body["items"] == [got.body]
    namespaces = raw(kube_api, "GET", "/api/v1/namespaces", accept=META_LIST).body
    assert "default" in [i["metadata"]["name"] for i in namespaces["items"]]
    assert all(set(i) == {"kind", "apiVersion", "metadata"} for i in namespaces["items"])


def test_plain_json_and_tables_are_unchanged_and_a_wrong_form_is_406(kube_api: KubeApi) -> None:
    assert raw(kube_api, "POST", WIDGETS, widget("w1")).status == 201
    assert raw(kube_api, "GET", f"{WIDGETS}/w1", accept="application/json").body["kind"] == "Widget"
    table = raw(kube_api, "GET", WIDGETS, accept="application/json;as=Table;g=meta.k8s.io;v=v1")
    assert table.body["kind"] == "Table"
    wrong = raw(kube_api, "GET", f"{WIDGETS}/w1", accept=META_LIST)
    assert wrong.status == 406
    assert wrong.body["reason"] == "NotAcceptable"
    fallback = raw(kube_api, "GET", f"{WIDGETS}/w1", accept=f"{META_LIST},application/json")
    assert fallback.body["kind"] == "Widget"


def test_watch_streams_metadata_only(kube_api: KubeApi) -> None:
    assert raw(kube_api, "POST", WIDGETS, widget("w1")).status == 201
    events = watch_events(
        kube_api,
        f"{WIDGETS}?watch=true&allowWatchBookmarks=true&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&timeoutSeconds=5",
        lambda events: events[-1]["type"] == "BOOKMARK",
        accept=f"{META_ITEM},application/json",
    )
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    added = events[0]["object"]
    assert added["kind"] == "PartialObjectMetadata"
    assert added["metadata"]["name"] == "w1"
    assert "spec" not in added
    assert events[1]["object"]["kind"] == "PartialObjectMetadata"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


# -- scale ------------------------------------------------------------------------------------------


def test_discovery_lists_the_scale_subresource(kube_api: KubeApi) -> None:
    resources = {r["name"]: r for r in raw(kube_api, "GET", f"/apis/{GROUP}/v1").body["resources"]}
    scale = resources["sprockets/scale"]
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    assert scale["verbs"] == ["get", "patch", "update"]
    assert "widgets/scale" not in resources
    assert raw(kube_api, "GET", f"{WIDGETS}/w1/scale").status == 404


def test_get_put_and_patch_scale(kube_api: KubeApi) -> None:
    created = raw(kube_api, "POST", SPROCKETS, sprocket("s1", replicas=2)).body
    status = {**created, "status": {"replicas": 2, "selector": "app=s1"}}
    assert raw(kube_api, "PUT", f"{SPROCKETS}/s1/status", status).status == 200
    got = raw(kube_api, "GET", f"{SPROCKETS}/s1/scale")
    assert got.status == 200
    assert got.body["kind"] == "Scale"
    assert got.body["apiVersion"] == "autoscaling/v1"
    assert got.body["metadata"]["name"] == "s1"
    assert got.body["spec"] == {"replicas": 2}
    assert got.body["status"] == {"replicas": 2, "selector": "app=s1"}
    put = raw(kube_api, "PUT", f"{SPROCKETS}/s1/scale", {**got.body, "spec": {"replicas": 4}})
    assert put.status == 200
    assert put.body["spec"] == {"replicas": 4}
    obj = raw(kube_api, "GET", f"{SPROCKETS}/s1").body
    assert obj["spec"] == {"replicas": 4, "color": "red"}
    assert obj["metadata"]["generation"] == 2
    assert obj["status"]["replicas"] == 2  # status is the controller's
    entry = obj["metadata"]["managedFields"][-1]
    assert entry["subresource"] == "scale"
    stale = raw(kube_api, "PUT", f"{SPROCKETS}/s1/scale", {**got.body, "spec": {"replicas": 5}})
    assert stale.status == 409  # the resourceVersion of the first GET
    merge = raw(
        kube_api,
        "PATCH",
        f"{SPROCKETS}/s1/scale",
        {"spec": {"replicas": 6}},
        content_type="application/merge-patch+json",
    )
    assert merge.body["spec"]["replicas"] == 6
    patch = raw(
        kube_api,
        "PATCH",
        f"{SPROCKETS}/s1/scale",
        [{"op": "replace", "path": "/spec/replicas", "value": 7}],
        content_type="application/json-patch+json",
    )
    assert patch.body["spec"]["replicas"] == 7
    assert raw(kube_api, "GET", f"{SPROCKETS}/s1").body["spec"]["replicas"] == 7


def test_scale_is_validated_by_the_scale_and_the_schema(kube_api: KubeApi) -> None:
    assert raw(kube_api, "POST", SPROCKETS, sprocket("s1")).status == 201
    path = f"{SPROCKETS}/s1/scale"
    negative = raw(
        kube_api, "PATCH", path, {"spec": {"replicas": -1}}, content_type="application/merge-patch+json"
    )
    assert negative.status == 422
    assert negative.body["message"] == (
        'Scale.autoscaling "s1" is invalid: '
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    )
    too_many = raw(
        kube_api, "PATCH", path, {"spec": {"replicas": 99}}, content_type="application/merge-patch+json"
    )
    assert too_many.status == 422  # the CRD's maximum
    assert (
        raw(
            kube_api, "PATCH", f"{SPROCKETS}/nope/scale", {}, content_type="application/merge-patch+json"
        ).status
        == 404
    )
    assert raw(kube_api, "DELETE", path).status == 405


def test_a_scale_subresource_with_bad_paths_is_refused(kube_api: KubeApi) -> None:
    crd = sprocket_crd()
    crd["metadata"]["name"] = f"cogs.{GROUP}"
    crd["spec"]["names"] = {"kind": "Cog", "listKind": "CogList", "plural": "cogs", "singular": "cog"}
    crd["spec"]["versions"][0]["subresources"]["scale"] = {"specReplicasPath": ".replicas"}
    reply = raw(kube_api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    assert reply.status == 422
    fields = [c["field"] for c in reply.body["details"]["causes"]]
    assert fields == [
        "spec.versions[0].subresources.scale.specReplicasPath",
        "spec.versions[0].subresources.scale.statusReplicasPath",
    ]


def test_kubectl_scale(kubectl: Kubectl, kube_api: KubeApi) -> None:
    assert raw(kube_api, "POST", SPROCKETS, sprocket("s1")).status == 201
    out = kubectl.run("scale", "sprocket", "s1", "--replicas=3")
    assert "sprocket.test.aso.dev/s1 scaled" in out.stdout
    assert raw(kube_api, "GET", f"{SPROCKETS}/s1").body["spec"]["replicas"] == 3
    out = kubectl.run("scale", "sprocket", "s1", "--current-replicas=3", "--replicas=5")
    assert "scaled" in out.stdout
    failed = kubectl.run("scale", "sprocket", "s1", "--current-replicas=1", "--replicas=2", check=False)
    assert failed.returncode != 0
    assert raw(kube_api, "GET", f"{SPROCKETS}/s1").body["spec"]["replicas"] == 5
