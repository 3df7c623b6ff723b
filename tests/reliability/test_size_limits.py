"""Size limits (issue "safety"): the sandbox refuses what Azure and Kubernetes refuse.

ARM: at most 50 tags, tag names of at most 512 characters (128 on storage accounts), values of at
most 256, no ``<>%&\\?/`` in names, tags an object of strings; answered 400 with ARM's codes.
Kubernetes: annotations of at most 256 KiB in total (422 Invalid), request bodies of at most
3 MiB (413), label keys and values in Kubernetes' format.
"""

from __future__ import annotations

import json
from typing import Any

import kubernetes
import pytest
import urllib3
from aso_testkinds.objects import RG, resource_group
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resource.resources import ResourceManagementClient

from aso.testing import OperatorProcess, create, get, ready_condition, wait_ready
from aso.testing.arm import ArmEmulatorHandle, ArmHttp
from aso.testing.kube import KubeApi

pytestmark = pytest.mark.timeout(120)

ANNOTATIONS_LIMIT = 256 * 1024
BODY_LIMIT = 3 * 1024 * 1024
STORAGE_API = "2023-01-01"


def _tags(count: int) -> dict[str, str]:
    return {f"tag{i:02d}": f"value{i}" for i in range(count)}


def _refusal(call: Any) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        call()
    return caught.value


def _code(err: HttpResponseError) -> str | None:
    return err.error.code if err.error is not None else None


# -- ARM: through the real Azure SDK ---------------------------------------------------------


@pytest.fixture
def rm(arm_emulator: ArmEmulatorHandle) -> ResourceManagementClient:
    client: ResourceManagementClient = arm_emulator.resource_client()
    return client


def test_fifty_tags_are_accepted_and_fifty_one_refused(rm: ResourceManagementClient) -> None:
    group = rm.resource_groups.create_or_update("rg-fifty", {"location": "westus2", "tags": _tags(50)})
    assert group.tags == _tags(50)

    err = _refusal(
        lambda: rm.resource_groups.create_or_update("rg-too-many", {"location": "westus2", "tags": _tags(51)})
    )
    assert err.status_code == 400
    assert _code(err) == "InvalidTags"
    assert err.error is not None
    assert err.error.message == (
        "Too many tags specified. Requested tag count - '51'. Maximum number of tags allowed - '50'."
    )
    assert not rm.resource_groups.check_existence("rg-too-many")

    # An update that would go over the limit leaves the group as it was.
    err = _refusal(
        lambda: rm.resource_groups.create_or_update("rg-fifty", {"location": "westus2", "tags": _tags(51)})
    )
    assert _code(err) == "InvalidTags"
    assert rm.resource_groups.get("rg-fifty").tags == _tags(50)


@pytest.mark.parametrize(
    ("tags", "code", "message"),
    [
        (
            {"n" * 513: "v"},
            "InvalidTagName",
            "Tag key too large. Following tag name '" + "n" * 513 + "' exceeded the maximum length. "
            "Maximum allowed length for tag name - '512' characters.",
        ),
        (
            {"k": "v" * 257},
            "InvalidTagValueLength",
            "Tag value too large. Following tag value '" + "v" * 257 + "' exceeded the maximum length. "
            "Maximum allowed length for tag value - '256' characters.",
        ),
        (
            {"a<b": "v"},
            "InvalidTagNameCharacters",
            "The tag names 'a<b' have reserved characters '<,>,%,&,\\,?,/' or control characters.",
        ),
        (
            {"ok": "v", "team/owner": "v", "100%": "v"},
            "InvalidTagNameCharacters",
            "The tag names 'team/owner, 100%' have reserved characters '<,>,%,&,\\,?,/' "
            "or control characters.",
        ),
        (
            {" ": "v"},
            "InvalidTagName",
            "The tag name must be non-null, non-empty and non-whitespace only. "
            "Please provide an actual value.",
        ),
    ],
    ids=["name-513", "value-257", "name-with-lt", "several-bad-names", "blank-name"],
)
def test_bad_tags_are_refused_with_arms_code(
    rm: ResourceManagementClient, tags: dict[str, str], code: str, message: str
) -> None:
    err = _refusal(
        lambda: rm.resource_groups.create_or_update("rg-bad", {"location": "westus2", "tags": tags})
    )
    assert err.status_code == 400
    assert _code(err) == code
    assert err.error is not None
    assert err.error.message == message
    assert not rm.resource_groups.check_existence("rg-bad")


def test_tags_at_the_limits_are_accepted(rm: ResourceManagementClient) -> None:
    tags = {"n" * 512: "v" * 256, "a-b_c.d:e=f+g@h (i) ~!#$*": ""}
    group = rm.resource_groups.create_or_update("rg-edge", {"location": "westus2", "tags": tags})
    assert group.tags == tags


def test_patch_with_too_many_tags_keeps_the_old_tags(rm: ResourceManagementClient) -> None:
    rm.resource_groups.create_or_update("rg-patched", {"location": "westus2", "tags": {"env": "dev"}})
    err = _refusal(lambda: rm.resource_groups.update("rg-patched", {"tags": _tags(51)}))
    assert err.status_code == 400
    assert _code(err) == "InvalidTags"
    assert rm.resource_groups.get("rg-patched").tags == {"env": "dev"}

    err = _refusal(lambda: rm.resource_groups.update("rg-patched", {"tags": {"x?y": "v"}}))
    assert _code(err) == "InvalidTagNameCharacters"
    assert rm.resource_groups.get("rg-patched").tags == {"env": "dev"}

    assert rm.resource_groups.update("rg-patched", {"tags": _tags(50)}).tags == _tags(50)


def test_every_resource_type_has_the_rule_and_storage_names_stop_at_128(
    rm: ResourceManagementClient, arm_emulator: ArmEmulatorHandle
) -> None:
    group = rm.resource_groups.create_or_update("rg-store", {"location": "westus2"})
    account_id = f"{group.id}/providers/Microsoft.Storage/storageAccounts/sizelimits0001"
    body = {"location": "westus2", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}

    err = _refusal(
        lambda: rm.resources.begin_create_or_update_by_id(
            account_id, {**body, "tags": {"n" * 129: "v"}}, api_version=STORAGE_API
        )
    )
    assert err.status_code == 400
    assert _code(err) == "InvalidTagName"
    assert err.error is not None
    assert "Maximum allowed length for tag name - '128' characters." in str(err.error.message)
    assert arm_emulator.control.get_resource(account_id) is None

    account = rm.resources.begin_create_or_update_by_id(
        account_id, {**body, "tags": {"n" * 128: "v"}}, api_version=STORAGE_API
    ).result()
    assert account.tags == {"n" * 128: "v"}

    # PATCH of a resource other than a group is held to the same rule.
    err = _refusal(
        lambda: rm.resources.begin_update_by_id(account_id, {"tags": _tags(51)}, api_version=STORAGE_API)
    )
    assert _code(err) == "InvalidTags"
    assert rm.resources.get_by_id(account_id, api_version=STORAGE_API).tags == {"n" * 128: "v"}

    # Any other type keeps ARM's 512.
    gizmo_id = f"{group.id}/providers/Microsoft.ArmEmulatorTest/gizmos/g1"
    gizmo = rm.resources.begin_create_or_update_by_id(
        gizmo_id, {"location": "westus2", "tags": {"n" * 512: "v"}}, api_version="2024-01-01"
    ).result()
    assert gizmo.tags == {"n" * 512: "v"}


def _arm_request(arm: ArmEmulatorHandle, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    """One request as any ARM client would send it (the SDK would stringify what it sends)."""
    resp = ArmHttp(arm).session.request(method, f"{arm.endpoint.rstrip('/')}{path}", json=body, timeout=10)
    return resp.status_code, resp.json() if resp.content else {}


@pytest.mark.parametrize(
    "tags", [["a", "b"], "env=dev", {"env": {"nested": "x"}}, {"count": 3}, {"env": None}]
)
def test_tags_must_be_an_object_of_strings(arm_emulator: ArmEmulatorHandle, tags: Any) -> None:
    path = f"/subscriptions/{arm_emulator.subscription_id}/resourcegroups/rg-typed?api-version=2021-04-01"
    status, body = _arm_request(arm_emulator, "PUT", path, {"location": "westus2", "tags": tags})
    assert status == 400
    assert body["error"]["code"] == "InvalidRequestContent"
    assert "tags" in body["error"]["message"]
    arm_id = f"/subscriptions/{arm_emulator.subscription_id}/resourceGroups/rg-typed"
    assert arm_emulator.control.get_resource(arm_id) is None


# -- end to end: the operator reports ARM's refusal and recovers when the user fixes it ----------


def test_resource_group_with_51_tags_is_an_error_until_fixed(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    aso_operator.start()
    create(k8s, resource_group("rg-tagged", tags=_tags(51)))
    obj = wait_ready(k8s, RG, "rg-tagged", status="False", reason="InvalidTags")
    condition = ready_condition(obj)
    assert condition["severity"] == "Error"
    assert "Too many tags specified" in condition["message"]
    assert "'51'" in condition["message"]
    arm_id = f"/subscriptions/{arm_emulator.subscription_id}/resourceGroups/rg-tagged"
    assert arm_emulator.control.get_resource(arm_id) is None

    # The user drops one tag (merge patch: null removes the key); the next attempt succeeds.
    k8s.custom.patch_namespaced_custom_object(
        RG[0], RG[1], "default", RG[2], "rg-tagged", {"spec": {"tags": {"tag50": None}}}
    )
    obj = wait_ready(k8s, RG, "rg-tagged", timeout=60)
    assert ready_condition(obj)["observedGeneration"] == obj["metadata"]["generation"]
    stored = arm_emulator.control.get_resource(arm_id)
    assert stored is not None
    assert stored.get("body", stored)["tags"] == _tags(50)


# -- Kubernetes API server --------------------------------------------------------------------


def _annotations(total: int) -> dict[str, str]:
    """Annotations whose keys and values add up to exactly ``total`` bytes."""
    key = "example.com/big"
    return {key: "x" * (total - len(key))}


def _configmap(name: str, annotations: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "annotations": annotations or {}},
        "data": data,
    }


def _api_error(call: Any) -> kubernetes.client.ApiException:
    with pytest.raises(kubernetes.client.ApiException) as caught:
        call()
    return caught.value


def _status(err: kubernetes.client.ApiException) -> Any:
    return json.loads(err.body or "{}")


def _too_long_status(kind: str, qualified: str, name: str, err: kubernetes.client.ApiException) -> None:
    assert err.status == 422
    status = _status(err)
    assert status["reason"] == "Invalid"
    assert status["message"] == (
        f'{qualified} "{name}" is invalid: metadata.annotations: Too long: must have at most 262144 bytes'
    )
    assert status["details"]["kind"] == kind
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueTooLong",
            "field": "metadata.annotations",
            "message": "Too long: must have at most 262144 bytes",
        }
    ]


def test_annotations_up_to_256_kib_are_accepted_one_byte_more_refused(k8s: KubeApi) -> None:
    k8s.core.create_namespaced_config_map("default", _configmap("at-limit", _annotations(ANNOTATIONS_LIMIT)))
    stored = k8s.core.read_namespaced_config_map("at-limit", "default")
    assert stored.metadata.annotations == _annotations(ANNOTATIONS_LIMIT)

    err = _api_error(
        lambda: k8s.core.create_namespaced_config_map(
            "default", _configmap("over-limit", _annotations(ANNOTATIONS_LIMIT + 1))
        )
    )
    _too_long_status("ConfigMap", "ConfigMap", "over-limit", err)
    assert _api_error(lambda: k8s.core.read_namespaced_config_map("over-limit", "default")).status == 404

    # Keys are checked case-insensitively, as Kubernetes does: upper case is allowed.
    k8s.core.create_namespaced_config_map("default", _configmap("upper", {"Example.COM/Owner": "me"}))

    # Keys count too: many small annotations add up the same way.
    many = {f"k{i:05d}": "v" * 1019 for i in range(257)}  # 257 * 1025 bytes
    assert sum(len(k) + len(v) for k, v in many.items()) > ANNOTATIONS_LIMIT
    err = _api_error(lambda: k8s.core.create_namespaced_config_map("default", _configmap("many", many)))
    assert err.status == 422


def test_custom_resources_have_the_same_annotation_limit(conversion_only: Any, k8s: KubeApi) -> None:
    big = resource_group("rg-annotated", annotations=_annotations(ANNOTATIONS_LIMIT + 1))
    err = _api_error(lambda: create(k8s, big))
    _too_long_status("ResourceGroup", "ResourceGroup.resources.azure.com", "rg-annotated", err)
    assert get(k8s, RG, "rg-annotated") is None

    create(k8s, resource_group("rg-annotated", annotations=_annotations(ANNOTATIONS_LIMIT)))
    assert get(k8s, RG, "rg-annotated") is not None


def test_a_merge_patch_may_not_push_annotations_over_the_limit(conversion_only: Any, k8s: KubeApi) -> None:
    first = {"example.com/first": "a" * 200_000}
    k8s.core.create_namespaced_config_map("default", _configmap("patched", first))
    before = k8s.core.read_namespaced_config_map("patched", "default")

    err = _api_error(
        lambda: k8s.core.patch_namespaced_config_map(
            "patched", "default", {"metadata": {"annotations": {"example.com/second": "b" * 70_000}}}
        )
    )
    _too_long_status("ConfigMap", "ConfigMap", "patched", err)
    after = k8s.core.read_namespaced_config_map("patched", "default")
    assert after.metadata.annotations == first
    assert after.metadata.resource_version == before.metadata.resource_version

    # The same through the custom objects API, on an update (PUT) as well.
    create(k8s, resource_group("rg-patched", annotations=first))
    err = _api_error(
        lambda: k8s.custom.patch_namespaced_custom_object(
            RG[0],
            RG[1],
            "default",
            RG[2],
            "rg-patched",
            {"metadata": {"annotations": {"example.com/second": "b" * 70_000}}},
        )
    )
    assert err.status == 422
    obj = get(k8s, RG, "rg-patched")
    assert obj is not None
    assert obj["metadata"]["annotations"] == first
    obj["metadata"]["annotations"]["example.com/second"] = "b" * 70_000
    err = _api_error(
        lambda: k8s.custom.replace_namespaced_custom_object(RG[0], RG[1], "default", RG[2], "rg-patched", obj)
    )
    assert err.status == 422
    assert (get(k8s, RG, "rg-patched") or {})["metadata"]["annotations"] == first


_POOL = urllib3.PoolManager()


def _send(k8s: KubeApi, method: str, path: str, data: bytes, content_type: str = "application/json") -> Any:
    return _POOL.request(
        method, k8s.url + path, body=data, headers={"Content-Type": content_type}, timeout=30.0
    )


def _padded(obj: dict[str, Any], size: int) -> bytes:
    """``obj`` as JSON, padded with whitespace to exactly ``size`` bytes."""
    raw = json.dumps(obj).encode()
    return raw + b" " * (size - len(raw))


def test_request_bodies_over_3_mib_are_refused_with_413(k8s: KubeApi) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    at_limit = _send(k8s, "POST", path, _padded(_configmap("padded"), BODY_LIMIT))
    assert at_limit.status == 201

    over = _send(k8s, "POST", path, _padded(_configmap("padded-over"), BODY_LIMIT + 1))
    assert over.status == 413
    status = json.loads(over.data)
    assert status["kind"] == "Status"
    assert status["reason"] == "RequestEntityTooLarge"
    assert status["code"] == 413
    assert status["message"] == f"Request entity too large: limit is {BODY_LIMIT}"
    assert _api_error(lambda: k8s.core.read_namespaced_config_map("padded-over", "default")).status == 404

    # A real object of 4 MiB, through the kubernetes client.
    huge = _configmap("huge", blob="x" * (4 * 1024 * 1024))
    err = _api_error(lambda: k8s.core.create_namespaced_config_map("default", huge))
    assert err.status == 413
    assert _status(err)["message"] == f"Request entity too large: limit is {BODY_LIMIT}"
    assert _api_error(lambda: k8s.core.read_namespaced_config_map("huge", "default")).status == 404

    # Updates and patches are held to the same limit.
    err = _api_error(
        lambda: k8s.core.patch_namespaced_config_map(
            "padded", "default", {"data": {"blob": "x" * BODY_LIMIT}}
        )
    )
    assert err.status == 413
    replaced = k8s.core.read_namespaced_config_map("padded", "default")
    replaced.data = {"blob": "x" * BODY_LIMIT}
    err = _api_error(lambda: k8s.core.replace_namespaced_config_map("padded", "default", replaced))
    assert err.status == 413
    assert not k8s.core.read_namespaced_config_map("padded", "default").data


def test_labels_follow_kubernetes_rules(k8s: KubeApi) -> None:
    ok = _configmap("labelled")
    ok["metadata"]["labels"] = {"example.com/app": "v" * 63, "tier": ""}
    k8s.core.create_namespaced_config_map("default", ok)

    long_value = _configmap("long-value")
    long_value["metadata"]["labels"] = {"app": "v" * 64}
    err = _api_error(lambda: k8s.core.create_namespaced_config_map("default", long_value))
    assert err.status == 422
    causes = _status(err)["details"]["causes"]
    assert causes == [
        {
            "reason": "FieldValueInvalid",
            "field": "metadata.labels",
            "message": f'Invalid value: "{"v" * 64}": must be no more than 63 characters',
        }
    ]

    bad_value = _configmap("bad-value")
    bad_value["metadata"]["labels"] = {"app": "-web"}
    err = _api_error(lambda: k8s.core.create_namespaced_config_map("default", bad_value))
    assert _status(err)["details"]["causes"][0]["message"] == (
        'Invalid value: "-web": a valid label must be an empty string or consist of alphanumeric '
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
        "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    )

    long_key = _configmap("long-key")
    long_key["metadata"]["labels"] = {"k" * 64: "v"}
    err = _api_error(lambda: k8s.core.create_namespaced_config_map("default", long_key))
    assert [c["message"] for c in _status(err)["details"]["causes"]] == [
        f'Invalid value: "{"k" * 64}": name part must be no more than 63 characters'
    ]

    assert (
        k8s.core.read_namespaced_config_map("labelled", "default").metadata.labels == ok["metadata"]["labels"]
    )
    for name in ("long-value", "bad-value", "long-key"):
        assert _api_error(lambda n=name: k8s.core.read_namespaced_config_map(n, "default")).status == 404
