"""Server-side apply over HTTP and with kubectl: what Helm 4, Flux and ``kubectl apply --server-side`` do."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

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
    widget,
    widget_crd,
)

pytestmark = pytest.mark.timeout(90)

APPLY = "application/apply-patch+yaml"
WIDGETS = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}"
GADGETS = f"/apis/{GROUP}/v1/namespaces/default/gadgets"


def gadget_crd() -> Json:
    """A kind whose lists are a map list (keyed by name), a set and an atomic list."""
    schema = resource_schema(
        spec={
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                    },
                },
                "zones": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "args": {"type": "array", "items": {"type": "string"}},
            },
        },
        status={"type": "object", "properties": {"phase": {"type": "string"}}},
    )
    return group_crd("Gadget", [served_version("v1", schema)])


@pytest.fixture
def kube_crds() -> list[Json]:
    return [widget_crd(), gadget_crd()]


def gadget(name: str, **spec: Any) -> Json:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Gadget", "metadata": {"name": name}, "spec": spec}


def _apply(api: KubeApi, path: str, body: Json, manager: str, query: str = "") -> Any:
    return raw(
        api, "PATCH", f"{path}?fieldManager={manager}{query}", yaml.safe_dump(body), content_type=APPLY
    )


def _managers(obj: Json) -> list[tuple[str, str]]:
    return [(e["manager"], e["operation"]) for e in obj["metadata"].get("managedFields", [])]


def _fields(obj: Json, manager: str) -> Json:
    return next(e["fieldsV1"] for e in obj["metadata"]["managedFields"] if e["manager"] == manager)


def test_apply_creates_then_updates_and_a_no_op_apply_writes_nothing(kube_api: KubeApi) -> None:
    created = _apply(kube_api, f"{WIDGETS}/w1", widget("w1", tags={"a": "1"}), "flux")
    assert created.status == 201, created.body
    assert created.body["spec"]["replicas"] == 1  # defaulted as on create
    (entry,) = created.body["metadata"]["managedFields"]
    assert entry["manager"] == "flux"
    assert entry["operation"] == "Apply"
    assert entry["apiVersion"] == f"{GROUP}/v1"
    assert entry["fieldsType"] == "FieldsV1"
    assert entry["fieldsV1"] == {"f:spec": {"f:location": {}, "f:size": {}, "f:tags": {"f:a": {}}}}
    again = _apply(kube_api, f"{WIDGETS}/w1", widget("w1", tags={"a": "1"}), "flux")
    assert again.status == 200
    assert again.body["metadata"]["resourceVersion"] == created.body["metadata"]["resourceVersion"]
    changed = _apply(kube_api, f"{WIDGETS}/w1", widget("w1", size="large", tags={"a": "1"}), "flux")
    assert changed.body["spec"]["size"] == "large"
    assert changed.body["metadata"]["generation"] == 2


def test_other_writes_are_tracked_as_updates_and_conflict_with_apply(kube_api: KubeApi) -> None:
    assert _apply(kube_api, f"{WIDGETS}/w1", widget("w1"), "helm").status == 201
    patched = raw(
        kube_api,
        "PATCH",
        f"{WIDGETS}/w1?fieldManager=editor",
        {"spec": {"size": "medium"}},
        content_type="application/merge-patch+json",
    )
    assert _managers(patched.body) == [("helm", "Apply"), ("editor", "Update")]
    assert _fields(patched.body, "editor") == {"f:spec": {"f:size": {}}}
    conflict = _apply(kube_api, f"{WIDGETS}/w1", widget("w1", size="large"), "helm")
    assert conflict.status == 409
    assert conflict.body["kind"] == "Status"
    assert conflict.body["reason"] == "Conflict"
    assert conflict.body["message"] == (
        f'Apply failed with 1 conflict: conflict with "editor" using {GROUP}/v1: .spec.size'
    )
    assert conflict.body["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": f'conflict with "editor" using {GROUP}/v1',
            "field": ".spec.size",
        }
    ]
    assert raw(kube_api, "GET", f"{WIDGETS}/w1").body["spec"]["size"] == "medium"
    forced = _apply(kube_api, f"{WIDGETS}/w1", widget("w1", size="large"), "helm", "&force=true")
    assert forced.status == 200
    assert forced.body["spec"]["size"] == "large"
    assert _managers(forced.body) == [("helm", "Apply")]  # editor owned nothing else: gone


def test_the_user_agent_names_the_manager_when_no_field_manager_is_given(
    kube_api: KubeApi, custom: Any
) -> None:
    created = custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    assert _managers(created) == [("OpenAPI-Generator", "Update")]


def test_fields_dropped_from_the_configuration_are_removed_unless_co_owned(kube_api: KubeApi) -> None:
    first = widget("w1", tags={"a": "1", "b": "2", "c": "3"})
    assert _apply(kube_api, f"{WIDGETS}/w1", first, "flux").status == 201
    assert _apply(kube_api, f"{WIDGETS}/w1", widget("w1", tags={"c": "3"}), "other").status == 200
    result = _apply(kube_api, f"{WIDGETS}/w1", widget("w1", tags={"a": "1"}), "flux")
    assert result.body["spec"]["tags"] == {"a": "1", "c": "3"}


def test_list_types_map_set_and_atomic(kube_api: KubeApi) -> None:
    one = gadget("g", ports=[{"name": "http", "port": 80}], zones=["z1"], args=["a"])
    assert _apply(kube_api, f"{GADGETS}/g", one, "alice").status == 201
    two = gadget("g", ports=[{"name": "grpc", "port": 90}], zones=["z2"])
    merged = _apply(kube_api, f"{GADGETS}/g", two, "bob").body
    assert merged["spec"]["ports"] == [{"name": "http", "port": 80}, {"name": "grpc", "port": 90}]
    assert merged["spec"]["zones"] == ["z1", "z2"]
    assert _fields(merged, "bob") == {
        "f:spec": {
            "f:ports": {'k:{"name":"grpc"}': {".": {}, "f:name": {}, "f:port": {}}},
            "f:zones": {'v:"z2"': {}},
        }
    }
    clash = _apply(kube_api, f"{GADGETS}/g", gadget("g", args=["b"]), "bob")
    assert clash.status == 409
    assert clash.body["details"]["causes"][0]["field"] == ".spec.args"
    dropped = _apply(kube_api, f"{GADGETS}/g", gadget("g", args=["a"]), "alice").body
    assert dropped["spec"] == {"ports": [{"name": "grpc", "port": 90}], "zones": ["z2"], "args": ["a"]}


def test_status_subresource_apply(kube_api: KubeApi) -> None:
    assert _apply(kube_api, f"{GADGETS}/g", gadget("g", replicas=1), "alice").status == 201
    status = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Gadget",
        "metadata": {"name": "g"},
        "status": {"phase": "Up"},
    }
    reply = _apply(kube_api, f"{GADGETS}/g/status", status, "controller")
    assert reply.status == 200, reply.body
    assert reply.body["status"] == {"phase": "Up"}
    entry = reply.body["metadata"]["managedFields"][-1]
    assert (entry["manager"], entry["subresource"]) == ("controller", "status")
    main = _apply(kube_api, f"{GADGETS}/g", {**gadget("g", replicas=2), "status": {"phase": "x"}}, "alice")
    assert main.body["status"] == {"phase": "Up"}
    assert main.body["spec"]["replicas"] == 2


def test_apply_needs_a_field_manager_and_a_matching_name(kube_api: KubeApi) -> None:
    reply = raw(kube_api, "PATCH", f"{WIDGETS}/w1", yaml.safe_dump(widget("w1")), content_type=APPLY)
    assert reply.status == 422
    assert reply.body["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    )
    merge = raw(
        kube_api, "PATCH", f"{WIDGETS}/w1?force=true", {}, content_type="application/merge-patch+json"
    )
    assert merge.status == 422
    assert "force: Forbidden: may not be specified for non-apply patch" in merge.body["message"]
    reply = _apply(kube_api, f"{WIDGETS}/w1", widget("other"), "flux")
    assert reply.status == 400
    invalid = _apply(kube_api, f"{WIDGETS}/w1", widget("w1", size="huge"), "flux")
    assert invalid.status == 422  # admitted like any write: schema validation
    assert raw(kube_api, "GET", f"{WIDGETS}/w1").status == 404


def test_built_in_kinds_apply_on_create(kube_api: KubeApi) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team", "labels": {"x": "y"}}}
    reply = _apply(kube_api, "/api/v1/namespaces/team", namespace, "helm")
    assert reply.status == 201
    assert reply.body["status"]["phase"] == "Active"
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    assert _apply(kube_api, "/api/v1/namespaces/team/configmaps/c", configmap, "helm").status == 201
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}
    reply = _apply(kube_api, "/api/v1/namespaces/team/secrets/s", secret, "helm")
    assert reply.status == 201
    assert reply.body["data"] == {"k": "dg=="}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}}
    assert _apply(kube_api, "/api/v1/namespaces/team/serviceaccounts/sa", account, "helm").status == 201
    crd = copy.deepcopy(gadget_crd())
    crd["metadata"]["name"] = "things.test.aso.dev"
    crd["spec"]["names"] = {"kind": "Thing", "listKind": "ThingList", "plural": "things", "singular": "thing"}
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.test.aso.dev"
    assert _apply(kube_api, path, crd, "helm").status == 201
    thing = {"apiVersion": f"{GROUP}/v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": {"replicas": 1}}
    assert _apply(kube_api, f"/apis/{GROUP}/v1/namespaces/team/things/t", thing, "helm").status == 201


def test_a_client_may_rewrite_or_clear_managed_fields(kube_api: KubeApi) -> None:
    created = _apply(kube_api, f"{WIDGETS}/w1", widget("w1"), "flux").body
    entry = created["metadata"]["managedFields"][0]
    renamed = [{**entry, "manager": "kustomize-controller"}]
    reply = raw(
        kube_api,
        "PATCH",
        f"{WIDGETS}/w1",
        [
            {
                "op": "test",
                "path": "/metadata/resourceVersion",
                "value": created["metadata"]["resourceVersion"],
            },
            {"op": "replace", "path": "/metadata/managedFields", "value": renamed},
        ],
        content_type="application/json-patch+json",
    )
    assert _managers(reply.body) == [("kustomize-controller", "Apply")]
    kept = raw(
        kube_api,
        "PATCH",
        f"{WIDGETS}/w1",
        {"metadata": {"managedFields": []}},
        content_type="application/merge-patch+json",
    )
    assert _managers(kept.body) == [("kustomize-controller", "Apply")]  # an empty list keeps them
    cleared = raw(
        kube_api,
        "PATCH",
        f"{WIDGETS}/w1?fieldManager=janitor",
        {"metadata": {"managedFields": [{}], "labels": {"swept": "yes"}}},
        content_type="application/merge-patch+json",
    )
    assert cleared.status == 200
    # Stripped first, then the same request's change is counted: the writer owns what it changed.
    assert _managers(cleared.body) == [("janitor", "Update")]
    assert _fields(cleared.body, "janitor") == {"f:metadata": {"f:labels": {"f:swept": {}}}}


def test_kubectl_server_side_apply_diff_conflict_and_force(kubectl: Kubectl, kube_api: KubeApi) -> None:
    docs = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cm", "namespace": "default"},
            "data": {"a": "1", "b": "2"},
        },
        widget("w1", tags={"env": "dev", "team": "x"}),
    ]
    text = yaml.safe_dump_all(docs)
    out = kubectl.run("apply", "--server-side", "-f", "-", stdin=text)
    assert "configmap/cm serverside-applied" in out.stdout
    assert "widget.test.aso.dev/w1 serverside-applied" in out.stdout
    assert kubectl.run("diff", "--server-side", "-f", "-", stdin=text, check=False).returncode == 0
    changed = text.replace("size: small", "size: large").replace("team: x\n", "")
    diff = kubectl.run("diff", "--server-side", "-f", "-", stdin=changed, check=False)
    assert diff.returncode == 1
    assert "-  size: small" in diff.stdout
    assert "+  size: large" in diff.stdout
    assert "-    team: x" in diff.stdout
    kubectl.run("patch", "widget", "w1", "--type", "merge", "-p", '{"spec":{"size":"medium"}}')
    clash = kubectl.run("apply", "--server-side", "-f", "-", stdin=changed, check=False)
    assert clash.returncode != 0
    assert (
        f'Apply failed with 1 conflict: conflict with "kubectl-patch" using {GROUP}/v2: .spec.size'
        in clash.stderr
    )
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=changed)
    got = raw(kube_api, "GET", f"{WIDGETS}/w1").body
    assert got["spec"]["size"] == "large"
    assert got["spec"]["tags"] == {"env": "dev"}  # no longer applied, owned by no-one else: removed
    shown = kubectl.run("get", "widget", "w1", "-o", "yaml", "--show-managed-fields").stdout
    assert "manager: kubectl\n" in shown
    assert "operation: Apply" in shown


def test_kubectl_moves_from_client_side_to_server_side_apply(kubectl: Kubectl, kube_api: KubeApi) -> None:
    text = yaml.safe_dump(widget("w1", tags={"env": "dev"}))
    kubectl.run("apply", "-f", "-", stdin=text)
    created = raw(kube_api, "GET", f"{WIDGETS}/w1").body
    assert ("kubectl-client-side-apply", "Update") in _managers(created)
    kubectl.run("apply", "--server-side", "-f", "-", stdin=text)
    kubectl.run("apply", "--server-side", "-f", "-", stdin=text.replace("env: dev", "env: prod"))
    got = raw(kube_api, "GET", f"{WIDGETS}/w1").body
    assert got["spec"]["tags"] == {"env": "prod"}
    assert ("kubectl", "Apply") in _managers(got)


def test_flux_style_drift_detection_with_dry_run_apply(kube_api: KubeApi) -> None:
    """kustomize-controller: dry-run apply with force, compare with the live object, then apply."""
    desired = widget("w1", tags={"env": "prod"})
    query = "&force=true"
    assert _apply(kube_api, f"{WIDGETS}/w1", desired, "kustomize-controller", query).status == 201
    live = raw(kube_api, "GET", f"{WIDGETS}/w1").body
    dry = _apply(kube_api, f"{WIDGETS}/w1", desired, "kustomize-controller", query + "&dryRun=All").body
    assert dry == live  # no drift: the dry run answers the live object unchanged
    drifted = raw(
        kube_api,
        "PATCH",
        f"{WIDGETS}/w1?fieldManager=kubectl-edit",
        {"spec": {"tags": {"env": "dev"}}},
        content_type="application/merge-patch+json",
    ).body
    dry = _apply(kube_api, f"{WIDGETS}/w1", desired, "kustomize-controller", query + "&dryRun=All").body
    assert dry["spec"]["tags"] == {"env": "prod"}
    assert raw(kube_api, "GET", f"{WIDGETS}/w1").body == drifted
    fixed = _apply(kube_api, f"{WIDGETS}/w1", desired, "kustomize-controller", query).body
    assert fixed["spec"]["tags"] == {"env": "prod"}
    assert _managers(fixed) == [("kustomize-controller", "Apply")]


def test_helm_style_upgrade_drops_what_the_chart_no_longer_sets(kube_api: KubeApi) -> None:
    """Helm 4 applies each manifest of a release with its own field manager, then upgrades it."""
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "release-config", "labels": {"app.kubernetes.io/managed-by": "Helm"}},
        "data": {"a": "1", "b": "2"},
    }
    path = "/api/v1/namespaces/default/configmaps/release-config"
    assert _apply(kube_api, path, configmap, "helm").status == 201
    assert _apply(kube_api, f"{WIDGETS}/w1", widget("w1", replicas=2), "helm").status == 201
    upgraded = {**configmap, "data": {"a": "10"}}
    reply = _apply(kube_api, path, upgraded, "helm")
    assert reply.body["data"] == {"a": "10"}
    assert reply.body["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "Helm"}
    widget_reply = _apply(kube_api, f"{WIDGETS}/w1", widget("w1"), "helm")
    assert widget_reply.body["spec"]["replicas"] == 1  # dropped by the chart, defaulted again


def test_the_kubernetes_python_client_applies(custom: Any, kube_api: KubeApi) -> None:
    # Created by apply first: the client maps only 200 for this call, and a create answers 201.
    assert _apply(kube_api, f"{WIDGETS}/w1", widget("w1"), "my-controller").status == 201
    applied = custom.patch_namespaced_custom_object(
        GROUP,
        "v1",
        "default",
        PLURAL,
        "w1",
        widget("w1", size="medium"),
        field_manager="my-controller",
        force=True,
        _content_type=APPLY,
    )
    assert applied["spec"]["size"] == "medium"
    assert _managers(applied) == [("my-controller", "Apply")]


def test_a_dry_run_apply_that_drops_fields_leaves_the_stored_object_alone(kube_api: KubeApi) -> None:
    assert _apply(kube_api, f"{WIDGETS}/w1", widget("w1", tags={"a": "1", "b": "2"}), "flux").status == 201
    before = raw(kube_api, "GET", f"{WIDGETS}/w1").body
    dry = _apply(kube_api, f"{WIDGETS}/w1", widget("w1", tags={"a": "1"}), "flux", "&dryRun=All").body
    assert dry["spec"]["tags"] == {"a": "1"}
    assert raw(kube_api, "GET", f"{WIDGETS}/w1").body == before
    dry = _apply(kube_api, f"{WIDGETS}/w1", widget("w1"), "flux", "&dryRun=All").body
    assert "tags" not in dry["spec"]
    assert raw(kube_api, "GET", f"{WIDGETS}/w1").body == before
