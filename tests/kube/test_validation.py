"""openAPIV3Schema validation, pruning, defaulting and fieldValidation, with Kubernetes' error shapes."""

from __future__ import annotations

from typing import Any

from aso.testing.kube import KubeApi

from .conftest import GROUP, PLURAL, raw, widget

PATH = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}"


def test_invalid_object_is_422_naming_each_field(kube_api: KubeApi) -> None:
    body = widget("w1", size="huge", replicas=11, azureName="x" * 21)
    del body["spec"]["location"]
    body["spec"]["items"] = [{"name": "UPPER"}]
    body["spec"]["port"] = 1.5
    reply = raw(kube_api, "POST", PATH, body)
    assert reply.status == 422
    status = reply.body
    assert status["kind"] == "Status"
    assert status["reason"] == "Invalid"
    assert status["code"] == 422
    assert status["details"]["kind"] == "Widget"
    assert status["details"]["group"] == GROUP
    causes = {c["field"]: c for c in status["details"]["causes"]}
    assert causes["spec.location"]["reason"] == "FieldValueRequired"
    assert causes["spec.location"]["message"] == "Required value"
    assert causes["spec.size"]["reason"] == "FieldValueNotSupported"
    assert (
        causes["spec.size"]["message"]
        == 'Unsupported value: "huge": supported values: "small", "medium", "large"'
    )
    assert (
        causes["spec.replicas"]["message"]
        == "Invalid value: 11: spec.replicas in body should be less than or equal to 10"
    )
    assert causes["spec.azureName"]["reason"] == "FieldValueTooLong"
    assert "should match '^[a-z]+$'" in causes["spec.items[0].name"]["message"]
    assert "must be of type integer,string" in causes["spec.port"]["message"]
    assert status["message"].startswith('Widget.test.aso.dev "w1" is invalid: [')
    assert 'spec.size: Unsupported value: "huge"' in status["message"]


def test_single_error_message_has_no_brackets(kube_api: KubeApi) -> None:
    reply = raw(kube_api, "POST", PATH, widget("w1", replicas="three"))
    assert reply.status == 422
    assert reply.body["message"] == (
        'Widget.test.aso.dev "w1" is invalid: spec.replicas: Invalid value: "string": '
        'spec.replicas in body must be of type integer: "string"'
    )


def test_invalid_names_and_labels(kube_api: KubeApi) -> None:
    reply = raw(kube_api, "POST", PATH, widget("Bad_Name"))
    assert reply.status == 422
    assert reply.body["details"]["causes"][0]["field"] == "metadata.name"
    body = widget("w1")
    body["metadata"]["labels"] = {"ok": "bad value!"}
    assert raw(kube_api, "POST", PATH, body).status == 422


def test_unknown_fields_are_pruned_with_a_warning_by_default(kube_api: KubeApi) -> None:
    body = widget("w1", foo="bar", settings={"free": {"form": 1}})
    body["spec"]["owner"] = {"name": "rg", "extra": True}
    body["metadata"]["bogus"] = 1
    body["topLevel"] = 1
    reply = raw(kube_api, "POST", PATH, body)
    assert reply.status == 201
    spec = reply.body["spec"]
    assert "foo" not in spec
    assert spec["owner"] == {"name": "rg"}
    assert spec["settings"] == {"free": {"form": 1}}  # x-kubernetes-preserve-unknown-fields
    assert "bogus" not in reply.body["metadata"]
    assert "topLevel" not in reply.body
    assert sorted(reply.warnings) == sorted(
        [
            '299 - "unknown field \\"spec.foo\\""',
            '299 - "unknown field \\"spec.owner.extra\\""',
            '299 - "unknown field \\"metadata.bogus\\""',
            '299 - "unknown field \\"topLevel\\""',
        ]
    )
    ignored = raw(kube_api, "POST", PATH + "?fieldValidation=Ignore", widget("w2", foo="bar"))
    assert ignored.status == 201
    assert ignored.warnings == []
    assert "foo" not in ignored.body["spec"]


def test_strict_field_validation_is_400_naming_unknown_and_duplicate_fields(kube_api: KubeApi) -> None:
    reply = raw(kube_api, "POST", PATH + "?fieldValidation=Strict", widget("w1", foo="bar", zone="z"))
    assert reply.status == 400
    assert reply.body["reason"] == "BadRequest"
    assert reply.body["message"] == (
        'Widget in version "v1" cannot be handled as a Widget: strict decoding error: '
        'unknown field "spec.foo", unknown field "spec.zone"'
    )
    duplicated = (
        '{"apiVersion":"test.aso.dev/v1","kind":"Widget","metadata":{"name":"w2"},'
        '"spec":{"location":"a","location":"b","size":"small"}}'
    )
    dup = raw(kube_api, "POST", PATH + "?fieldValidation=Strict", duplicated)
    assert dup.status == 400
    assert 'duplicate field "spec.location"' in dup.body["message"]
    # v2 knows "zone": the same body is fine there.
    ok = raw(
        kube_api,
        "POST",
        f"/apis/{GROUP}/v2/namespaces/default/{PLURAL}?fieldValidation=Strict",
        widget("w3", version="v2", zone="z"),
    )
    assert ok.status == 201, ok.body


def test_strict_patch_and_update_too(kube_api: KubeApi) -> None:
    assert raw(kube_api, "POST", PATH, widget("w1")).status == 201
    patched = raw(
        kube_api,
        "PATCH",
        f"{PATH}/w1?fieldValidation=Strict",
        {"spec": {"nope": 1}},
        content_type="application/merge-patch+json",
    )
    assert patched.status == 400
    assert 'unknown field "spec.nope"' in patched.body["message"]
    invalid = raw(
        kube_api,
        "PATCH",
        f"{PATH}/w1",
        {"spec": {"size": "tiny"}},
        content_type="application/merge-patch+json",
    )
    assert invalid.status == 422


def test_defaults_fill_absent_fields_on_update_too(kube_api: KubeApi, custom: Any) -> None:
    created = custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1", replicas=3))
    assert created["spec"]["replicas"] == 3
    patched = custom.patch_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "w1", {"spec": {"replicas": None}}
    )
    assert patched["spec"]["replicas"] == 1


def test_invalid_crd_is_rejected(kube_api: KubeApi) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "things", "kind": "Thing"},
            "versions": [{"name": "v1", "served": True, "storage": False}],
        },
    }
    reply = raw(kube_api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    assert reply.status == 422
    assert "must have exactly one version marked as storage version" in reply.body["message"]
