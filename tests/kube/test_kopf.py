"""kopf runs unchanged against the server: it discovers the CRD, sees a Widget, patches its status,
adds and removes its finalizer, and posts Events."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf
import pytest

from aso.testing.kube import KubeApi, async_wait_for, is_ready

from .conftest import GROUP, PLURAL, widget

pytestmark = pytest.mark.timeout(60)


def _registry(seen: list[str]) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    # kopf's own kubeconfig reader (its piggybacking login) must accept the kubeconfig we write.
    @kopf.on.login(registry=registry, id="kubeconfig")
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        info: kopf.ConnectionInfo | None = kopf.login_with_kubeconfig(**kwargs)
        return info

    @kopf.on.startup(registry=registry, id="settings")
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.posting.level = logging.INFO
        settings.watching.server_timeout = 30
        settings.persistence.finalizer = "test.aso.dev/finalizer"

    @kopf.on.create(GROUP, "v1", PLURAL, registry=registry, id="create")
    def created(name: str, spec: dict[str, Any], body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        seen.append(f"create:{name}:{spec['size']}")
        kopf.info(body, reason="Created", message="widget created")
        patch.status["conditions"] = [
            {"type": "Ready", "status": "True", "severity": "", "reason": "Succeeded", "message": ""}
        ]

    @kopf.on.delete(GROUP, "v1", PLURAL, registry=registry, id="delete")
    def deleted(name: str, **_: Any) -> None:
        seen.append(f"delete:{name}")

    return registry


async def test_kopf_operator_reconciles_a_widget(kube_api: KubeApi, kubeconfig_env: Any) -> None:
    seen: list[str] = []
    stop_flag: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    ready_flag = asyncio.Event()
    operator = asyncio.create_task(
        kopf.operator(
            registry=_registry(seen),
            standalone=True,
            clusterwide=True,
            stop_flag=stop_flag,
            ready_flag=ready_flag,
        )
    )
    custom = kube_api.custom
    try:
        await asyncio.wait_for(ready_flag.wait(), 20)
        await asyncio.to_thread(
            custom.create_namespaced_custom_object, GROUP, "v1", "default", PLURAL, widget("w1")
        )

        async def fetch() -> dict[str, Any]:
            obj: dict[str, Any] = await asyncio.to_thread(
                custom.get_namespaced_custom_object, GROUP, "v1", "default", PLURAL, "w1"
            )
            return obj

        async def ready() -> dict[str, Any] | None:
            obj = await fetch()
            return obj if is_ready(obj) else None

        obj = await async_wait_for(ready, timeout=20, what="kopf to mark w1 Ready")
        assert seen == ["create:w1:small"]
        assert "test.aso.dev/finalizer" in obj["metadata"]["finalizers"]

        async def event_posted() -> bool:
            events = await asyncio.to_thread(
                kube_api.core.list_namespaced_event, "default", field_selector="involvedObject.name=w1"
            )
            return any("widget created" in (e.message or "") for e in events.items)

        await async_wait_for(event_posted, timeout=20, what="kopf to post an Event")

        # Deletion: the finalizer holds the object until kopf's delete handler ran and released it.
        await asyncio.to_thread(custom.delete_namespaced_custom_object, GROUP, "v1", "default", PLURAL, "w1")

        async def gone() -> bool:
            try:
                await fetch()
            except Exception as exc:
                return getattr(exc, "status", None) == 404
            return False

        await async_wait_for(gone, timeout=20, what="w1 to be deleted after kopf released its finalizer")
        assert seen == ["create:w1:small", "delete:w1"]
    finally:
        stop_flag.set_result(None)
        await asyncio.wait_for(operator, 20)
