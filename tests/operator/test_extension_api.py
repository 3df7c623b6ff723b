"""The extension API as a plugin author uses it: the documented order, the ARM verbs, and ARM errors
from an extension's own calls going through the kind's ``classify_error``.

The reconciler runs in-process against fakes of the Kubernetes API and of ARM (unit tests; the end
to end behaviour of extensions is covered with the Widget kind in test_scenarios.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from aso_testkinds.plugin import WIDGET, quota_is_transient

from aso import (
    ArmBody,
    ArmError,
    Delete,
    Extensions,
    Next,
    PreReconcile,
    ReconcileContext,
    RetryableError,
)
from aso.host import Registry, load_registry
from aso.operator.arm import ArmResponse
from aso.operator.context import ObjectContext
from aso.operator.kubeapi import KubeApiError, NotFound
from aso.operator.reconciler import FINALIZER, Reconciler
from aso.operator.settings import Settings

pytestmark = pytest.mark.timeout(30)

SUB = "00000000-0000-0000-0000-000000000001"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/rg"
WIDGET_ID = f"{RG_ID}/providers/Microsoft.AsoTest/widgets/w1"


class FakeKube:
    """The object store the reconciler reads and writes: a resource group object and merge patches."""

    def __init__(self) -> None:
        self.patches: list[tuple[str, dict[str, Any]]] = []

    async def get(self, path: str) -> dict[str, Any] | None:
        if path.endswith("/resourcegroups/rg"):
            meta = {
                "name": "rg",
                "uid": "u-rg",
                "annotations": {"serviceoperator.azure.com/resource-id": RG_ID},
            }
            return {
                "apiVersion": "resources.azure.com/v1api20200601",
                "kind": "ResourceGroup",
                "metadata": meta,
            }
        return None

    async def merge_patch(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.patches.append((path, body))
        return body

    async def apply_object(self, path: str, name: str, body: dict[str, Any]) -> None:
        return None


class FakeArm:
    """ARM as the reconciler and extensions see it; ``fail`` makes one path answer an error."""

    def __init__(self) -> None:
        self.settings = Settings(arm_endpoint="https://127.0.0.1:1")
        self.calls: list[tuple[str, str]] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self.fail: dict[str, ArmError] = {}

    def url(self, arm_id: str, api_version: str, action: str | None = None) -> str:
        return f"https://127.0.0.1:1{arm_id}{'/' + action if action else ''}?api-version={api_version}"

    def _check(self, method: str, arm_id: str) -> None:
        self.calls.append((method, arm_id))
        if arm_id in self.fail:
            raise self.fail[arm_id]

    async def send(self, method: str, url: str, body: Any = None) -> ArmResponse:
        arm_id = url.split("https://127.0.0.1:1", 1)[1].split("?", 1)[0]
        self._check(method, arm_id)
        if method == "PUT":
            self.resources[arm_id.lower()] = {
                "id": arm_id,
                **body,
                "properties": {"provisioningState": "Succeeded"},
            }
            return ArmResponse(200, {}, self.resources[arm_id.lower()])
        self.resources.pop(arm_id.lower(), None)
        return ArmResponse(200, {}, None)

    async def get(self, arm_id: str, api_version: str) -> dict[str, Any] | None:
        self._check("GET", arm_id)
        return self.resources.get(arm_id.lower())

    async def put(self, arm_id: str, api_version: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return (await self.send("PUT", self.url(arm_id, api_version), dict(body))).body  # type: ignore[no-any-return]

    async def patch(self, arm_id: str, api_version: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self._check("PATCH", arm_id)
        return dict(body)

    async def post(
        self, arm_id: str, action: str, api_version: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        self._check("POST", f"{arm_id}/{action}")
        return {"keys": [{"value": "k"}]}

    async def delete(self, arm_id: str, api_version: str) -> None:
        self._check("DELETE", arm_id)
        self.resources.pop(arm_id.lower(), None)


def _setup(
    extensions: Extensions, action: str = "reconcile", recorded: bool = True, **fail: ArmError
) -> tuple[Reconciler, FakeArm, ObjectContext]:
    kind = dataclasses.replace(WIDGET, extensions=extensions)
    resource_group = next(k for k in load_registry().all_kinds() if k.kind == "ResourceGroup")
    by_group_kind = {(k.group, k.kind): k for k in (kind, resource_group)}
    registry = Registry(kinds={}, plugins=(), by_group_kind=by_group_kind)
    settings = Settings(subscription_id=SUB, tenant_id="t", client_id="c", client_secret="s")
    kube = FakeKube()
    reconciler = Reconciler(settings, registry, kube)  # type: ignore[arg-type]
    arm = FakeArm()
    arm.fail.update({k.replace("_", "/"): v for k, v in fail.items()})
    reconciler._client = lambda spec: arm  # type: ignore[method-assign,assignment,return-value]
    # The id as the first call records it (that call returns before any ARM request).
    annotations = {"serviceoperator.azure.com/resource-id": WIDGET_ID} if recorded else {}
    finalizers = [FINALIZER] if recorded else []
    metadata = {"name": "w1", "namespace": "default", "uid": "u-w1", "resourceVersion": "7"}
    body = {
        "apiVersion": "test.aso.dev/v1api20240101",
        "kind": "Widget",
        "metadata": {**metadata, "annotations": annotations, "finalizers": finalizers},
        "spec": {"owner": {"name": "rg"}, "location": "westus2", "size": "Small"},
    }
    ctx = ObjectContext(kind=kind, body=body, patch={}, log=logging.getLogger("test"))
    return reconciler, arm, ctx


def _run(
    extensions: Extensions, action: str = "reconcile", **fail: ArmError
) -> tuple[FakeArm, ObjectContext]:
    reconciler, arm, ctx = _setup(extensions, action, **fail)
    asyncio.run(getattr(reconciler, action)(ctx))
    return arm, ctx


def test_the_id_is_written_before_the_first_arm_request() -> None:
    """The ARM id and the finalizer reach the object (the operator's writer) before anything is
    sent to Azure."""
    reconciler, arm, ctx = _setup(Extensions(), recorded=False)
    seen: list[tuple[int, Mapping[str, Any]]] = []

    async def write_now(patch: Mapping[str, Any]) -> None:
        seen.append((len(arm.calls), patch))

    ctx.write_now = write_now
    asyncio.run(reconciler.reconcile(ctx))
    # With the finalizer, on the condition that the object is the one read (its resourceVersion).
    written = {
        "annotations": {"serviceoperator.azure.com/resource-id": WIDGET_ID},
        "finalizers": [FINALIZER],
        "resourceVersion": "7",
    }
    assert seen == [(0, {"metadata": written})]
    assert [m for m, _ in arm.calls] == ["GET", "PUT"]
    assert ctx.annotations["serviceoperator.azure.com/resource-id"] == WIDGET_ID


def test_an_object_with_its_id_but_not_the_finalizer_gets_the_finalizer_before_any_write() -> None:
    """Its id was recorded without the finalizer (reconcile-policy skip, which never writes, then
    manage; or the finalizer removed by hand): the finalizer alone is written first."""
    reconciler, arm, ctx = _setup(Extensions(), recorded=True)
    ctx.body = {**ctx.body, "metadata": {**ctx.metadata, "finalizers": ["other.example/keep"]}}
    seen: list[tuple[int, Mapping[str, Any]]] = []

    async def write_now(patch: Mapping[str, Any]) -> None:
        seen.append((len(arm.calls), patch))

    ctx.write_now = write_now
    asyncio.run(reconciler.reconcile(ctx))
    written = {"finalizers": ["other.example/keep", FINALIZER], "resourceVersion": "7"}
    assert seen == [(0, {"metadata": written})]
    assert [m for m, _ in arm.calls] == ["GET", "PUT"]


@pytest.mark.parametrize(
    ("error", "reason"),
    [(KubeApiError(409, "the object has been modified"), "Conflict"), (NotFound(404, "gone"), "ObjectGone")],
)
def test_nothing_is_sent_to_azure_when_the_id_and_finalizer_cannot_be_written(
    error: KubeApiError, reason: str
) -> None:
    """The object changed since it was read (the finalizers list would be replaced whole) or is
    gone: a retry with the object as it is now, and no ARM request."""
    reconciler, arm, ctx = _setup(Extensions(), recorded=False)

    async def write_now(patch: Mapping[str, Any]) -> None:
        raise error

    ctx.write_now = write_now
    with pytest.raises(RetryableError) as raised:
        asyncio.run(reconciler.reconcile(ctx))
    assert raised.value.reason == reason
    assert arm.calls == []


def test_pre_reconcile_runs_before_arm_body_and_may_use_arm() -> None:
    order: list[str] = []

    async def pre(ctx: ReconcileContext, next: Next[None]) -> None:
        order.append("pre_reconcile")
        assert (
            await ctx.arm.get(f"{RG_ID}/providers/Microsoft.AsoTest/widgets/prerequisite", "2024-01-01")
            is None
        )
        await next()

    async def body(ctx: ReconcileContext, next: Next[dict[str, Any]]) -> dict[str, Any]:
        order.append("arm_body")
        return await next()

    typed_pre: PreReconcile = pre
    typed_body: ArmBody = body
    arm, ctx = _run(Extensions(pre_reconcile=typed_pre, arm_body=typed_body))
    assert order == ["pre_reconcile", "arm_body"]
    methods = [m for m, _ in arm.calls]
    assert methods == ["GET", "GET", "PUT"]  # the extension's GET, then the core's GET and PUT
    assert ctx.patch["status"]["conditions"][0]["reason"] == "Succeeded"


def test_arm_error_in_an_extension_goes_through_classify_error() -> None:
    quota = ArmError(409, "WidgetQuotaReached", "no more widgets here")

    async def pre(ctx: ReconcileContext, next: Next[None]) -> None:
        await ctx.arm.put(
            f"{RG_ID}/providers/Microsoft.AsoTest/widgets/helper", "2024-01-01", {"location": "x"}
        )
        await next()

    helper = f"{RG_ID}/providers/Microsoft.AsoTest/widgets/helper"
    with pytest.raises(RetryableError) as info:
        _run(
            Extensions(pre_reconcile=pre, classify_error=quota_is_transient),
            **{helper.replace("/", "_"): quota},
        )
    # Widget's classify_error makes the quota error a retry after 1 s; the default would be an Error.
    assert (info.value.reason, info.value.delay, info.value.severity) == (
        "WidgetQuotaReached",
        1.0,
        "Warning",
    )


def test_delete_extension_has_the_delete_verb() -> None:
    async def delete(ctx: ReconcileContext, next: Next[None]) -> None:
        await ctx.arm.delete(f"{ctx.arm_id}-side", ctx.api_version.arm_api_version)
        await next()

    typed: Delete = delete
    arm, _ = _run(Extensions(delete=typed), action="delete")
    assert ("DELETE", f"{WIDGET_ID}-side") in arm.calls
    assert ("DELETE", WIDGET_ID) in arm.calls


def test_aliases_are_exported_for_authors() -> None:
    import aso

    for name in ("Next", "PreReconcile", "ArmBody", "ExportValues", "Delete", "ClassifyError", "ArmError"):
        assert name in aso.__all__
