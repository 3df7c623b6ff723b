"""CRUD semantics through the official kubernetes client: what an operator relies on."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from aso.testing.kube import KubeApi, wait_for

from .conftest import GROUP, PLURAL, raw, widget, widget_crd


def _get(custom: Any, name: str, version: str = "v1", ns: str = "default") -> dict[str, Any]:
    obj: dict[str, Any] = custom.get_namespaced_custom_object(GROUP, version, ns, PLURAL, name)
    return obj


def _exists(custom: Any, name: str) -> bool:
    try:
        _get(custom, name)
    except ApiException as exc:
        if exc.status != 404:
            raise
        return False
    return True


def test_discovery_lists_core_groups_and_the_crd(kube_api: KubeApi) -> None:
    assert raw(kube_api, "GET", "/api").body["versions"] == ["v1"]
    core = {r["name"]: r for r in raw(kube_api, "GET", "/api/v1").body["resources"]}
    assert {"namespaces", "secrets", "configmaps", "events", "namespaces/status"} <= set(core)
    assert core["namespaces"]["namespaced"] is False
    groups = {g["name"]: g for g in raw(kube_api, "GET", "/apis").body["groups"]}
    assert {"apiextensions.k8s.io", "coordination.k8s.io", GROUP} <= set(groups)
    assert [v["version"] for v in groups[GROUP]["versions"]] == ["v2", "v1"]
    resources = {r["name"]: r for r in raw(kube_api, "GET", f"/apis/{GROUP}/v1").body["resources"]}
    assert resources[PLURAL]["kind"] == "Widget"
    assert resources[PLURAL]["shortNames"] == ["wdg"]
    assert resources[PLURAL]["categories"] == ["azure"]
    assert set(resources[PLURAL]["verbs"]) >= {"get", "list", "watch", "patch", "create", "delete", "update"}
    assert resources[f"{PLURAL}/status"]["verbs"] == ["get", "patch", "update"]
    assert raw(kube_api, "GET", "/apis/nope.example.com/v1").status == 404
    assert raw(kube_api, "GET", "/version").body["major"] == "1"


def test_create_get_list_and_server_metadata(custom: Any) -> None:
    created = custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    meta = created["metadata"]
    assert meta["generation"] == 1
    assert meta["uid"]
    assert meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) > 0
    assert created["spec"]["replicas"] == 1  # schema default applied
    assert _get(custom, "w1") == created
    listed = custom.list_namespaced_custom_object(GROUP, "v1", "default", PLURAL)
    assert listed["kind"] == "WidgetList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["w1"]
    assert int(listed["metadata"]["resourceVersion"]) >= int(meta["resourceVersion"])
    with pytest.raises(ApiException) as exc:
        custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    assert exc.value.status == 409
    assert "AlreadyExists" in exc.value.body
    with pytest.raises(ApiException) as missing:
        _get(custom, "nope")
    assert missing.value.status == 404
    assert 'widgets.test.aso.dev \\"nope\\" not found' in missing.value.body


def test_generate_name_and_missing_namespace(custom: Any) -> None:
    body = widget("")
    body["metadata"] = {"generateName": "gen-"}
    created = custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, body)
    assert created["metadata"]["name"].startswith("gen-")
    assert len(created["metadata"]["name"]) == 9
    with pytest.raises(ApiException) as exc:
        custom.create_namespaced_custom_object(
            GROUP, "v1", "nowhere", PLURAL, widget("w1", namespace="nowhere")
        )
    assert exc.value.status == 404
    assert 'namespaces \\"nowhere\\" not found' in exc.value.body


def test_stale_update_conflicts_and_generation_counts_spec_changes(custom: Any) -> None:
    first = custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    updated = dict(first, spec={**first["spec"], "size": "large"})
    second = custom.replace_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "w1", updated)
    assert second["metadata"]["generation"] == 2
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    with pytest.raises(ApiException) as exc:
        custom.replace_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "w1", updated)
    assert exc.value.status == 409
    assert "the object has been modified" in exc.value.body
    # Metadata-only and status changes leave generation alone.
    labelled = custom.patch_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "w1", {"metadata": {"labels": {"team": "a"}}}
    )
    assert labelled["metadata"]["generation"] == 2
    status = custom.patch_namespaced_custom_object_status(
        GROUP, "v1", "default", PLURAL, "w1", {"status": {"id": "/subscriptions/x"}}
    )
    assert status["metadata"]["generation"] == 2
    # A patch that changes nothing is not a write: the resourceVersion stays.
    same = custom.patch_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "w1", {"spec": {"size": "large"}}
    )
    assert same["metadata"]["resourceVersion"] == status["metadata"]["resourceVersion"]


def test_status_subresource_is_isolated(custom: Any) -> None:
    custom.create_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, dict(widget("w1"), status={"id": "x"})
    )
    assert "status" not in _get(custom, "w1")  # create cannot set status
    custom.patch_namespaced_custom_object_status(
        GROUP, "v1", "default", PLURAL, "w1", {"status": {"id": "a"}}
    )
    # The main resource ignores status; the status endpoint ignores spec and metadata.
    main = custom.patch_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "w1", {"spec": {"size": "medium"}, "status": {"id": "b"}}
    )
    assert main["status"] == {"id": "a"}
    assert main["spec"]["size"] == "medium"
    via_status = custom.patch_namespaced_custom_object_status(
        GROUP,
        "v1",
        "default",
        PLURAL,
        "w1",
        {"spec": {"size": "large"}, "metadata": {"labels": {"x": "y"}}, "status": {"id": "c"}},
    )
    assert via_status["status"] == {"id": "c"}
    assert via_status["spec"]["size"] == "medium"
    assert "labels" not in via_status["metadata"]


def test_json_patch_with_resource_version_test_op(kube_api: KubeApi, custom: Any) -> None:
    obj = custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    rv = obj["metadata"]["resourceVersion"]
    path = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}/w1"
    ops = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
        {"op": "add", "path": "/metadata/finalizers", "value": ["x/y"]},
    ]
    ok = raw(kube_api, "PATCH", path, ops, content_type="application/json-patch+json")
    assert ok.status == 200
    assert ok.body["metadata"]["finalizers"] == ["x/y"]
    stale = raw(kube_api, "PATCH", path, ops, content_type="application/json-patch+json")
    assert stale.status == 422  # kopf retries on exactly this
    assert stale.body["reason"] == "Invalid"
    merge = raw(
        kube_api,
        "PATCH",
        path,
        {"metadata": {"finalizers": None}},
        content_type="application/merge-patch+json",
    )
    assert merge.status == 200
    assert "finalizers" not in merge.body["metadata"]
    strategic = raw(
        kube_api, "PATCH", path, {"spec": {}}, content_type="application/strategic-merge-patch+json"
    )
    assert strategic.status == 415
    conflict = raw(
        kube_api,
        "PATCH",
        path,
        {"metadata": {"resourceVersion": "1"}},
        content_type="application/merge-patch+json",
    )
    assert conflict.status == 409


def test_finalizers_hold_deletion_until_removed(custom: Any) -> None:
    body = widget("w1")
    body["metadata"]["finalizers"] = ["test.aso.dev/finalizer"]
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, body)
    deleting = custom.delete_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "w1")
    assert deleting["metadata"]["deletionTimestamp"]
    assert deleting["metadata"]["generation"] == 2
    still = _get(custom, "w1")
    assert still["metadata"]["deletionTimestamp"] == deleting["metadata"]["deletionTimestamp"]
    with pytest.raises(ApiException) as exc:
        custom.patch_namespaced_custom_object(
            GROUP,
            "v1",
            "default",
            PLURAL,
            "w1",
            {"metadata": {"finalizers": ["test.aso.dev/finalizer", "new"]}},
        )
    assert exc.value.status == 422
    assert "no new finalizers can be added" in exc.value.body
    custom.patch_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "w1", {"metadata": {"finalizers": None}}
    )
    assert not _exists(custom, "w1")


def test_delete_preconditions(kube_api: KubeApi, custom: Any) -> None:
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    path = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}/w1"
    wrong = raw(kube_api, "DELETE", path, {"preconditions": {"uid": "not-it"}})
    assert wrong.status == 409
    assert "Precondition failed" in wrong.body["message"]
    assert raw(kube_api, "DELETE", path).status == 200
    assert raw(kube_api, "DELETE", path).status == 404


def test_namespaces_secrets_configmaps_and_leases(kube_api: KubeApi, core: Any) -> None:
    core.create_namespace({"metadata": {"name": "team-a"}})
    ns = core.read_namespace("team-a")
    assert ns.status.phase == "Active"
    assert ns.metadata.labels["kubernetes.io/metadata.name"] == "team-a"
    secret = core.create_namespaced_secret(
        "team-a", {"metadata": {"name": "creds"}, "stringData": {"key": "value"}}
    )
    assert secret.type == "Opaque"
    assert base64.b64decode(secret.data["key"]) == b"value"
    assert secret.string_data is None
    core.create_namespaced_config_map("team-a", {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    core.patch_namespaced_config_map("cfg", "team-a", {"data": {"b": "2"}})
    assert core.read_namespaced_config_map("cfg", "team-a").data == {"a": "1", "b": "2"}
    leases = raw(
        kube_api,
        "POST",
        "/apis/coordination.k8s.io/v1/namespaces/team-a/leases",
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "leader"},
            "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15},
        },
    )
    assert leases.status == 201
    assert leases.body["spec"]["holderIdentity"] == "me"
    # Deleting a namespace deletes its content, then the namespace itself.
    path = "/api/v1/namespaces/team-a"
    assert raw(kube_api, "DELETE", path).body["status"]["phase"] == "Terminating"
    wait_for(
        lambda: not any(n.metadata.name == "team-a" for n in core.list_namespace().items), what="team-a gone"
    )
    assert core.list_secret_for_all_namespaces(field_selector="metadata.namespace=team-a").items == []


def test_terminating_namespace_refuses_new_content(custom: Any, core: Any) -> None:
    core.create_namespace({"metadata": {"name": "busy"}})
    body = widget("held", namespace="busy")
    body["metadata"]["finalizers"] = ["test.aso.dev/finalizer"]
    custom.create_namespaced_custom_object(GROUP, "v1", "busy", PLURAL, body)
    core.delete_namespace("busy")
    held = wait_for(
        lambda: _get(custom, "held", ns="busy")["metadata"].get("deletionTimestamp"),
        what="held marked deleted",
    )
    assert held
    assert core.read_namespace("busy").status.phase == "Terminating"
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map("busy", {"metadata": {"name": "late"}})
    assert exc.value.status == 403
    assert "being terminated" in exc.value.body
    custom.patch_namespaced_custom_object(
        GROUP, "v1", "busy", PLURAL, "held", {"metadata": {"finalizers": None}}
    )
    wait_for(
        lambda: not any(n.metadata.name == "busy" for n in core.list_namespace().items), what="busy gone"
    )


def test_label_and_field_selectors_and_pagination(custom: Any, core: Any) -> None:
    for i, team in enumerate(["a", "a", "b", "c"]):
        body = widget(f"w{i}")
        body["metadata"]["labels"] = {"team": team, **({"tier": "gold"} if i == 0 else {})}
        custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, body)

    def names(**kwargs: Any) -> list[str]:
        items = custom.list_namespaced_custom_object(GROUP, "v1", "default", PLURAL, **kwargs)["items"]
        return [i["metadata"]["name"] for i in items]

    assert names(label_selector="team=a") == ["w0", "w1"]
    assert names(label_selector="team!=a") == ["w2", "w3"]
    assert names(label_selector="team in (b,c)") == ["w2", "w3"]
    assert names(label_selector="team notin (a),team") == ["w2", "w3"]
    assert names(label_selector="tier") == ["w0"]
    assert names(label_selector="!tier") == ["w1", "w2", "w3"]
    assert names(field_selector="metadata.name=w2") == ["w2"]
    assert names(field_selector="metadata.name!=w2,metadata.namespace=default") == ["w0", "w1", "w3"]
    with pytest.raises(ApiException) as exc:
        names(field_selector="spec.size=small")
    assert exc.value.status == 400
    page = custom.list_namespaced_custom_object(GROUP, "v1", "default", PLURAL, limit=3)
    assert [i["metadata"]["name"] for i in page["items"]] == ["w0", "w1", "w2"]
    assert page["metadata"]["remainingItemCount"] == 1
    rest = custom.list_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, limit=3, _continue=page["metadata"]["continue"]
    )
    assert [i["metadata"]["name"] for i in rest["items"]] == ["w3"]
    assert not rest["metadata"].get("continue")
    # Events select by involvedObject, which kubectl describe relies on.
    core.create_namespaced_event(
        "default",
        {
            "metadata": {"generateName": "w0-"},
            "involvedObject": {"kind": "Widget", "name": "w0", "namespace": "default"},
            "reason": "Test",
            "message": "hello",
            "type": "Normal",
        },
    )
    found = core.list_namespaced_event(
        "default", field_selector="involvedObject.name=w0,involvedObject.kind=Widget"
    )
    assert [e.message for e in found.items] == ["hello"]


def _owned(name: str, owner: dict[str, Any]) -> dict[str, Any]:
    body = widget(name)
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
        }
    ]
    return body


def test_garbage_collection_background_foreground_orphan(custom: Any, core: Any) -> None:
    owner = custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("owner"))
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, _owned("child", owner))
    core.create_namespaced_config_map(
        "default",
        {
            "metadata": {
                "name": "child-cm",
                "ownerReferences": _owned("x", owner)["metadata"]["ownerReferences"],
            }
        },
    )
    custom.delete_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "owner")
    wait_for(lambda: not _exists(custom, "child"), what="background GC of child")
    wait_for(
        lambda: not core.list_namespaced_config_map("default", field_selector="metadata.name=child-cm").items
    )

    owner = custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("owner2"))
    held = _owned("held-child", owner)
    held["metadata"]["finalizers"] = ["test.aso.dev/finalizer"]
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, held)
    custom.delete_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "owner2", propagation_policy="Foreground"
    )
    wait_for(
        lambda: _get(custom, "held-child")["metadata"].get("deletionTimestamp"), what="dependent deleting"
    )
    assert "foregroundDeletion" in _get(custom, "owner2")["metadata"]["finalizers"]
    custom.patch_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "held-child", {"metadata": {"finalizers": None}}
    )
    wait_for(lambda: not _exists(custom, "owner2"), what="foreground owner gone after its dependent")

    owner = custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("owner3"))
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, _owned("orphan", owner))
    custom.delete_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "owner3", propagation_policy="Orphan"
    )
    wait_for(lambda: not _exists(custom, "owner3"), what="orphaning owner gone")
    assert "ownerReferences" not in _get(custom, "orphan")["metadata"]


def test_dependents_of_missing_owners_are_collected(custom: Any) -> None:
    ghost = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Widget",
        "metadata": {"name": "ghost", "uid": "00000000-dead"},
    }
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, _owned("stray", ghost))
    wait_for(lambda: not _exists(custom, "stray"), what="dangling dependent collected")


def test_crd_deletion_removes_endpoints_and_objects(kube_api: KubeApi, custom: Any) -> None:
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    ext = raw(kube_api, "DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{PLURAL}.{GROUP}")
    assert ext.status == 200
    assert raw(kube_api, "GET", f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}").status == 404
    assert GROUP not in {g["name"] for g in raw(kube_api, "GET", "/apis").body["groups"]}


def test_crd_status_reports_established(kube_api: KubeApi) -> None:
    crd = raw(
        kube_api, "GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{PLURAL}.{GROUP}"
    ).body
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crd["status"]["storedVersions"] == ["v1"]
    assert crd["status"]["acceptedNames"]["kind"] == "Widget"


def test_events_expire_after_their_ttl(tmp_path: Any) -> None:
    from aso.sandbox.kube import KubeApiServerThread
    from aso.testing.kube import api_client_for

    with KubeApiServerThread(event_ttl=0.5) as server:
        client = api_client_for(server.url)
        api = KubeApi(server=server, url=server.url, kubeconfig=tmp_path / "k", client=client)
        api.core.create_namespaced_event(
            "default",
            {"metadata": {"name": "old"}, "involvedObject": {"kind": "Widget", "name": "w"}, "reason": "R"},
        )
        assert [e.metadata.name for e in api.core.list_namespaced_event("default").items] == ["old"]
        wait_for(lambda: not api.core.list_namespaced_event("default").items, timeout=10, what="event expiry")
        client.close()


def test_cluster_scoped_custom_resources(kube_api: KubeApi) -> None:
    crd = widget_crd()
    crd["metadata"]["name"] = f"clusterwidgets.{GROUP}"
    crd["spec"]["scope"] = "Cluster"
    crd["spec"]["names"] = {"kind": "ClusterWidget", "plural": "clusterwidgets", "singular": "clusterwidget"}
    kube_api.install_crds(crd)
    custom = kube_api.custom
    body = widget("cw1")
    body["kind"] = "ClusterWidget"
    del body["metadata"]["namespace"]
    created = custom.create_cluster_custom_object(GROUP, "v1", "clusterwidgets", body)
    assert "namespace" not in created["metadata"]
    assert custom.get_cluster_custom_object(GROUP, "v1", "clusterwidgets", "cw1")["spec"]["size"] == "small"
    assert [
        i["metadata"]["name"]
        for i in custom.list_cluster_custom_object(GROUP, "v1", "clusterwidgets")["items"]
    ] == ["cw1"]
    namespaced = raw(kube_api, "GET", f"/apis/{GROUP}/v1/namespaces/default/clusterwidgets/cw1")
    assert namespaced.status == 404
    custom.delete_cluster_custom_object(GROUP, "v1", "clusterwidgets", "cw1")
    assert custom.list_cluster_custom_object(GROUP, "v1", "clusterwidgets")["items"] == []
