"""Version conversion: ``strategy: None`` rewrites apiVersion; ``Webhook`` calls the webhook over HTTPS."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from aiohttp import web
from kubernetes.client.exceptions import ApiException

from aso.common import LoopThread
from aso.testing.kube import KubeApi

from .conftest import GROUP, PLURAL, raw, widget, widget_crd


def test_strategy_none_serves_every_version(custom: Any) -> None:
    custom.create_namespaced_custom_object(
        GROUP, "v2", "default", PLURAL, widget("w1", version="v2", zone="z1")
    )
    as_v1 = custom.get_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "w1")
    assert as_v1["apiVersion"] == f"{GROUP}/v1"
    as_v2 = custom.get_namespaced_custom_object(GROUP, "v2", "default", PLURAL, "w1")
    assert as_v2["apiVersion"] == f"{GROUP}/v2"
    assert as_v2["spec"]["zone"] == "z1"


class Webhook:
    """A conversion webhook in a thread: v1 ``spec.location`` <-> v2 ``spec.region``; can be told to fail."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.requests: list[dict[str, Any]] = []
        self.fail = False
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._thread: LoopThread | None = None

    async def convert(self, request: web.Request) -> web.Response:
        review = await request.json()
        self.requests.append(review)
        req = review["request"]
        if self.fail:
            result = {"status": "Failure", "message": "webhook refuses today"}
            return web.json_response(
                {
                    "apiVersion": review["apiVersion"],
                    "kind": "ConversionReview",
                    "response": {"uid": req["uid"], "result": result},
                }
            )
        converted = []
        for obj in req["objects"]:
            spec = dict(obj.get("spec", {}))
            if req["desiredAPIVersion"].endswith("/v2") and "location" in spec:
                spec["zone"] = spec.pop("location")
            elif req["desiredAPIVersion"].endswith("/v1") and "zone" in spec:
                spec["location"] = spec.pop("zone")
            converted.append({**obj, "apiVersion": req["desiredAPIVersion"], "spec": spec})
        return web.json_response(
            {
                "apiVersion": review["apiVersion"],
                "kind": "ConversionReview",
                "response": {
                    "uid": req["uid"],
                    "result": {"status": "Success"},
                    "convertedObjects": converted,
                },
            }
        )

    def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(context)
        app = web.Application()
        app.router.add_post("/convert", self.convert)
        runner = self._runner = web.AppRunner(app)

        async def setup() -> None:
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
            self.url = f"https://127.0.0.1:{runner.addresses[0][1]}/convert"

        self._thread = LoopThread("conversion-webhook", setup, runner.cleanup)
        self._thread.start(10)

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop(10)

    def crd(self) -> dict[str, Any]:
        ca_bundle = base64.b64encode(self.ca.cert_pem.bytes()).decode()
        crd = widget_crd(
            conversion={
                "strategy": "Webhook",
                "webhook": {
                    "clientConfig": {"url": self.url, "caBundle": ca_bundle},
                    "conversionReviewVersions": ["v1"],
                },
            }
        )
        # v1 requires location; v2 has zone instead (what the webhook maps).
        v2 = crd["spec"]["versions"][1]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        v2["required"] = ["zone", "size"]
        del v2["properties"]["location"]
        return crd


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """Request it before ``kube_api``: the server must close its connections before the webhook stops."""
    hook = Webhook()
    hook.start()
    yield hook
    hook.stop()


def test_webhook_converts_reads_and_writes(webhook: Webhook, kube_api: KubeApi) -> None:
    kube_api.install_crds(webhook.crd())
    custom = kube_api.custom
    custom.create_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, widget("w1", location="westeurope")
    )
    assert webhook.requests == []  # stored version requested: nothing to convert
    as_v2 = custom.get_namespaced_custom_object(GROUP, "v2", "default", PLURAL, "w1")
    assert as_v2["apiVersion"] == f"{GROUP}/v2"
    assert as_v2["spec"]["zone"] == "westeurope"
    assert "location" not in as_v2["spec"]
    review = webhook.requests[-1]
    assert review["apiVersion"] == "apiextensions.k8s.io/v1"
    assert review["kind"] == "ConversionReview"
    assert review["request"]["desiredAPIVersion"] == f"{GROUP}/v2"
    assert review["request"]["objects"][0]["apiVersion"] == f"{GROUP}/v1"
    # Writing in v2 stores v1 (converted by the webhook) and answers in v2.
    body = widget("w2", version="v2")
    body["spec"] = {"zone": "northeurope", "size": "large"}
    created = custom.create_namespaced_custom_object(GROUP, "v2", "default", PLURAL, body)
    assert created["apiVersion"] == f"{GROUP}/v2"
    assert created["spec"]["zone"] == "northeurope"
    stored = custom.get_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "w2")
    assert stored["spec"]["location"] == "northeurope"
    listed = custom.list_namespaced_custom_object(GROUP, "v2", "default", PLURAL)
    assert [i["spec"]["zone"] for i in listed["items"]] == ["westeurope", "northeurope"]
    patched = custom.patch_namespaced_custom_object(
        GROUP, "v2", "default", PLURAL, "w1", {"spec": {"zone": "eastus"}}
    )
    assert patched["spec"]["zone"] == "eastus"
    assert (
        custom.get_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "w1")["spec"]["location"]
        == "eastus"
    )


def test_failed_conversion_is_a_clear_error(webhook: Webhook, kube_api: KubeApi) -> None:
    kube_api.install_crds(webhook.crd())
    custom = kube_api.custom
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    webhook.fail = True
    with pytest.raises(ApiException) as exc:
        custom.get_namespaced_custom_object(GROUP, "v2", "default", PLURAL, "w1")
    assert exc.value.status == 500
    assert f"conversion webhook for {GROUP}/v2, Kind=Widget failed: webhook refuses today" in exc.value.body


def test_unreachable_or_untrusted_webhook_is_a_clear_error(webhook: Webhook, kube_api: KubeApi) -> None:
    crd = webhook.crd()
    del crd["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"]  # the test CA is not trusted then
    kube_api.install_crds(crd)
    kube_api.custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    reply = raw(kube_api, "GET", f"/apis/{GROUP}/v2/namespaces/default/{PLURAL}/w1")
    assert reply.status == 500
    assert "conversion webhook for test.aso.dev/v2, Kind=Widget failed" in reply.body["message"]
    assert "certificate" in reply.body["message"].lower()


def test_watch_in_another_version_is_converted(webhook: Webhook, kube_api: KubeApi) -> None:
    kube_api.install_crds(webhook.crd())
    custom = kube_api.custom
    listed = custom.list_namespaced_custom_object(GROUP, "v2", "default", PLURAL)
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1", location="uksouth"))
    reply = raw(
        kube_api,
        "GET",
        f"/apis/{GROUP}/v2/namespaces/default/{PLURAL}?watch=true&timeoutSeconds=1"
        f"&resourceVersion={listed['metadata']['resourceVersion']}",
    )
    assert reply.body["type"] == "ADDED"
    assert reply.body["object"]["apiVersion"] == f"{GROUP}/v2"
    assert reply.body["object"]["spec"]["zone"] == "uksouth"
