"""``dryRun=All`` on every write verb, in the query string and (for deletes) in the DeleteOptions body.

kubectl and client-go send a delete's ``dryRun`` in the body; a server that reads only the query
string deletes for real. Every case below checks the answer *and* that nothing was stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from aso.testing.kube import KubeApi

from .conftest import GROUP, PLURAL, Kubectl, raw, widget

pytestmark = pytest.mark.timeout(60)

WIDGETS = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}"
DRY_BODY = {"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"]}


def _stored(api: KubeApi, path: str) -> Any:
    reply = raw(api, "GET", path)
    return reply.body if reply.status == 200 else None


def _make(api: KubeApi, name: str, **spec: Any) -> dict[str, Any]:
    reply = raw(api, "POST", WIDGETS, widget(name, **spec))
    assert reply.status == 201, reply.body
    body: dict[str, Any] = reply.body
    return body


def test_create_dry_run_answers_the_object_and_stores_nothing(kube_api: KubeApi) -> None:
    reply = raw(kube_api, "POST", WIDGETS + "?dryRun=All", widget("dry"))
    assert reply.status == 201
    assert reply.body["metadata"]["uid"]
    assert reply.body["spec"]["replicas"] == 1  # defaulted as a real create would be
    assert _stored(kube_api, f"{WIDGETS}/dry") is None
    configmap = {"metadata": {"name": "dry"}, "data": {"a": "1"}}
    assert raw(kube_api, "POST", "/api/v1/namespaces/default/configmaps?dryRun=All", configmap).status == 201
    assert _stored(kube_api, "/api/v1/namespaces/default/configmaps/dry") is None


def test_update_and_every_patch_type_dry_run_change_nothing(kube_api: KubeApi) -> None:
    before = _make(kube_api, "w1")
    path = f"{WIDGETS}/w1"
    changed = {**before, "spec": {**before["spec"], "size": "large"}}
    reply = raw(kube_api, "PUT", path + "?dryRun=All", changed)
    assert reply.status == 200
    assert reply.body["spec"]["size"] == "large"
    patches = [
        ("application/merge-patch+json", {"spec": {"size": "large"}}),
        ("application/json-patch+json", [{"op": "replace", "path": "/spec/size", "value": "large"}]),
        (
            "application/apply-patch+yaml",
            {
                "apiVersion": f"{GROUP}/v1",
                "kind": "Widget",
                "metadata": {"name": "w1"},
                "spec": {"size": "large"},
            },
        ),
    ]
    for content_type, patch in patches:
        query = "?dryRun=All&fieldManager=dry&force=true" if "apply" in content_type else "?dryRun=All"
        reply = raw(kube_api, "PATCH", path + query, patch, content_type=content_type)
        assert reply.status == 200, (content_type, reply.body)
        assert reply.body["spec"]["size"] == "large", content_type
    assert _stored(kube_api, path) == before
    cm_path = "/api/v1/namespaces/default/configmaps/c1"
    created = raw(kube_api, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "c1"}})
    assert created.status == 201
    reply = raw(
        kube_api,
        "PATCH",
        cm_path + "?dryRun=All",
        {"data": {"k": "v"}},
        content_type="application/strategic-merge-patch+json",
    )
    assert reply.status == 200
    assert reply.body["data"] == {"k": "v"}
    assert _stored(kube_api, cm_path) == created.body


def test_apply_on_create_dry_run_stores_nothing(kube_api: KubeApi) -> None:
    reply = raw(
        kube_api,
        "PATCH",
        f"{WIDGETS}/fresh?dryRun=All&fieldManager=flux",
        widget("fresh"),
        content_type="application/apply-patch+yaml",
    )
    assert reply.status == 201
    assert reply.body["metadata"]["managedFields"][0]["manager"] == "flux"
    assert _stored(kube_api, f"{WIDGETS}/fresh") is None


def test_status_writes_dry_run_change_nothing(kube_api: KubeApi) -> None:
    before = _make(kube_api, "w1")
    path = f"{WIDGETS}/w1/status"
    reply = raw(kube_api, "PUT", path + "?dryRun=All", {**before, "status": {"id": "x"}})
    assert reply.status == 200
    assert reply.body["status"] == {"id": "x"}
    reply = raw(
        kube_api,
        "PATCH",
        path + "?dryRun=All",
        {"status": {"id": "y"}},
        content_type="application/merge-patch+json",
    )
    assert reply.status == 200
    assert reply.body["status"] == {"id": "y"}
    assert _stored(kube_api, f"{WIDGETS}/w1") == before


@pytest.mark.parametrize("form", ["query", "body"])
def test_delete_dry_run_keeps_the_object(kube_api: KubeApi, form: str) -> None:
    before = _make(kube_api, "w1")
    held = raw(
        kube_api, "POST", WIDGETS, {**widget("held"), "metadata": {"name": "held", "finalizers": ["x/y"]}}
    )
    assert held.status == 201
    for name in ("w1", "held"):
        if form == "query":
            reply = raw(kube_api, "DELETE", f"{WIDGETS}/{name}?dryRun=All")
        else:
            reply = raw(kube_api, "DELETE", f"{WIDGETS}/{name}", DRY_BODY)
        assert reply.status == 200, reply.body
    assert reply.body["metadata"]["deletionTimestamp"]  # the answer shows what would happen
    assert _stored(kube_api, f"{WIDGETS}/w1") == before
    assert _stored(kube_api, f"{WIDGETS}/held") == held.body


@pytest.mark.parametrize("form", ["query", "body"])
def test_deletecollection_dry_run_keeps_everything(kube_api: KubeApi, form: str) -> None:
    for name in ("a", "b"):
        _make(kube_api, name)
    if form == "query":
        reply = raw(kube_api, "DELETE", WIDGETS + "?dryRun=All")
    else:
        reply = raw(kube_api, "DELETE", WIDGETS, DRY_BODY)
    assert reply.status == 200
    assert sorted(i["metadata"]["name"] for i in reply.body["items"]) == ["a", "b"]
    listed = raw(kube_api, "GET", WIDGETS).body["items"]
    assert sorted(i["metadata"]["name"] for i in listed) == ["a", "b"]


@pytest.mark.parametrize("form", ["query", "body"])
def test_namespace_delete_dry_run_keeps_the_namespace_and_its_content(kube_api: KubeApi, form: str) -> None:
    assert raw(kube_api, "POST", "/api/v1/namespaces", {"metadata": {"name": "keep"}}).status == 201
    assert (
        raw(kube_api, "POST", f"/apis/{GROUP}/v1/namespaces/keep/{PLURAL}", widget("w", "keep")).status == 201
    )
    if form == "query":
        reply = raw(kube_api, "DELETE", "/api/v1/namespaces/keep?dryRun=All")
    else:
        reply = raw(kube_api, "DELETE", "/api/v1/namespaces/keep", DRY_BODY)
    assert reply.status == 200
    assert reply.body["status"]["phase"] == "Terminating"
    namespace = _stored(kube_api, "/api/v1/namespaces/keep")
    assert namespace["status"]["phase"] == "Active"
    assert "deletionTimestamp" not in namespace["metadata"]
    assert _stored(kube_api, f"/apis/{GROUP}/v1/namespaces/keep/{PLURAL}/w") is not None


def test_a_bad_dry_run_value_in_the_body_is_refused(kube_api: KubeApi) -> None:
    _make(kube_api, "w1")
    reply = raw(kube_api, "DELETE", f"{WIDGETS}/w1", {"dryRun": ["Some"]})
    assert reply.status == 400
    assert _stored(kube_api, f"{WIDGETS}/w1") is not None


def test_kubectl_delete_dry_run_server(kubectl: Kubectl, kube_api: KubeApi) -> None:
    _make(kube_api, "w1")
    kubectl.run("create", "namespace", "scratch")
    out = kubectl.run("delete", "widget", "w1", "--dry-run=server")
    assert 'widget.test.aso.dev "w1" deleted (server dry run)' in out.stdout
    out = kubectl.run("delete", "namespace", "scratch", "--dry-run=server")
    assert "(server dry run)" in out.stdout
    out = kubectl.run("delete", "widgets", "--all", "--dry-run=server")
    assert "(server dry run)" in out.stdout
    assert _stored(kube_api, f"{WIDGETS}/w1") is not None
    assert _stored(kube_api, "/api/v1/namespaces/scratch")["status"]["phase"] == "Active"


def _protobuf_delete_options(**fields: Any) -> bytes:
    """DeleteOptions as client-go's typed clients send them (``k8s\\0`` + runtime.Unknown)."""

    def field(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2, len(payload)]) + payload

    options = b"".join(field(5, value.encode()) for value in fields.get("dryRun", []))
    if "propagationPolicy" in fields:
        options += field(4, fields["propagationPolicy"].encode())
    type_meta = field(1, b"v1") + field(2, b"DeleteOptions")
    return b"k8s\x00" + field(1, type_meta) + field(2, options)


def test_protobuf_delete_options_are_read_dry_run_included(kube_api: KubeApi) -> None:
    secrets = "/api/v1/namespaces/default/secrets"
    assert raw(kube_api, "POST", secrets, {"metadata": {"name": "release.v1"}, "data": {}}).status == 201
    protobuf = "application/vnd.kubernetes.protobuf"
    dry = _protobuf_delete_options(dryRun=["All"])
    reply = raw(kube_api, "DELETE", f"{secrets}/release.v1", dry, content_type=protobuf)
    assert reply.status == 200
    assert _stored(kube_api, f"{secrets}/release.v1") is not None
    real = _protobuf_delete_options(propagationPolicy="Background")
    assert raw(kube_api, "DELETE", f"{secrets}/release.v1", real, content_type=protobuf).status == 200
    assert _stored(kube_api, f"{secrets}/release.v1") is None
