"""Paged lists (``limit``/``continue``) are consistent: every page shows the objects as they were at
the first page's resourceVersion, whatever is written between pages; a token whose resourceVersion
is no longer in the server's history answers 410 Expired with Kubernetes' message and a successor
token that continues at the latest state."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aso.sandbox.kube.errors import CONTINUE_EXPIRED
from aso.sandbox.kube.server import KubeApiServerThread
from aso.testing.kube import KubeApi, api_client_for

from .conftest import GROUP, PLURAL, raw, widget, widget_crd

pytestmark = pytest.mark.timeout(60)

Json = dict[str, Any]
COLLECTION = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}"


def _names(items: list[Json]) -> list[str]:
    return [i["metadata"]["name"] for i in items]


def _versions(items: list[Json]) -> dict[str, str]:
    return {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in items}


def _page(api: KubeApi, limit: int, token: str | None = None, path: str = COLLECTION) -> Json:
    query = f"?limit={limit}" + (f"&continue={token}" if token else "")
    reply = raw(api, "GET", path + query)
    assert reply.status == 200, reply.body
    page: Json = reply.body
    return page


def test_pages_show_the_objects_at_the_first_pages_resource_version(custom: Any, kube_api: KubeApi) -> None:
    for i in range(10):
        custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget(f"w{i:02d}"))
    expected = custom.list_namespaced_custom_object(GROUP, "v1", "default", PLURAL)

    first = _page(kube_api, 3)
    assert first["metadata"]["resourceVersion"] == expected["metadata"]["resourceVersion"]
    seen = list(first["items"])
    token = first["metadata"]["continue"]
    for step in range(10):
        # Between pages: objects ahead of the cursor and behind it are created, changed, deleted.
        custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget(f"w{step:02d}x"))
        custom.delete_namespaced_custom_object(GROUP, "v1", "default", PLURAL, f"w{9 - step:02d}")
        custom.patch_namespaced_custom_object(
            GROUP, "v1", "default", PLURAL, f"w{step:02d}", {"spec": {"size": "large"}}
        )
        page = _page(kube_api, 3, token)
        assert page["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
        seen.extend(page["items"])
        token = page["metadata"].get("continue")
        if not token:
            break
    assert _names(seen) == _names(expected["items"])
    assert _versions(seen) == _versions(expected["items"])
    assert all(i["spec"]["size"] == "small" for i in seen)
    now = custom.list_namespaced_custom_object(GROUP, "v1", "default", PLURAL)
    assert _names(now["items"]) != _names(expected["items"])  # the writes did land


def test_remaining_item_count_counts_the_snapshot(custom: Any, kube_api: KubeApi) -> None:
    for i in range(5):
        custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget(f"w{i}"))
    first = _page(kube_api, 2)
    assert first["metadata"]["remainingItemCount"] == 3
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w9"))
    second = _page(kube_api, 2, first["metadata"]["continue"])
    assert _names(second["items"]) == ["w2", "w3"]
    assert second["metadata"]["remainingItemCount"] == 1
    last = _page(kube_api, 2, second["metadata"]["continue"])
    assert _names(last["items"]) == ["w4"]
    assert "continue" not in last["metadata"]


def test_a_watch_from_the_lists_resource_version_sees_what_the_pages_did_not(
    custom: Any, kube_api: KubeApi
) -> None:
    for i in range(4):
        custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget(f"w{i}"))
    first = _page(kube_api, 2)
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w5"))
    custom.delete_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "w3")
    rest = _page(kube_api, 2, first["metadata"]["continue"])
    assert _names(first["items"] + rest["items"]) == ["w0", "w1", "w2", "w3"]
    rv = rest["metadata"]["resourceVersion"]
    reply = raw(kube_api, "GET", f"{COLLECTION}?watch=true&resourceVersion={rv}&timeoutSeconds=1")
    events = (
        [json.loads(line) for line in reply.body.splitlines()]
        if isinstance(reply.body, str)
        else [reply.body]
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "w5"),
        ("DELETED", "w3"),
    ]


def test_cluster_wide_pages_across_namespaces(custom: Any, core: Any, kube_api: KubeApi) -> None:
    core.create_namespace({"metadata": {"name": "other"}})
    for ns in ("default", "other"):
        for i in range(3):
            custom.create_namespaced_custom_object(GROUP, "v1", ns, PLURAL, widget(f"w{i}", namespace=ns))
    path = f"/apis/{GROUP}/v1/{PLURAL}"
    first = _page(kube_api, 4, path=path)
    custom.delete_namespaced_custom_object(GROUP, "v1", "other", PLURAL, "w2")
    rest = _page(kube_api, 4, first["metadata"]["continue"], path=path)
    keys = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in first["items"] + rest["items"]]
    assert keys == [(ns, f"w{i}") for ns in ("default", "other") for i in range(3)]


def test_bad_continue_tokens_are_400(kube_api: KubeApi, custom: Any) -> None:
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w0"))
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    for token in ("not-base64!", base64.urlsafe_b64encode(b'{"rv": 1}').decode()):
        reply = raw(kube_api, "GET", f"{COLLECTION}?limit=1&continue={token}")
        assert reply.status == 400
        assert reply.body["message"].startswith("continue key is not valid")
    token = _page(kube_api, 1)["metadata"]["continue"]
    reply = raw(kube_api, "GET", f"{COLLECTION}?limit=1&continue={token}&resourceVersion=1")
    assert reply.status == 400
    assert reply.body["message"] == "specifying resource version is not allowed when using continue"


@pytest.fixture
def short_history(tmp_path: Path) -> Iterator[KubeApi]:
    """A server that keeps only 3 events of history per kind (etcd compacting early)."""
    server = KubeApiServerThread(crds=[widget_crd()], history_size=3)
    server.start()
    api = KubeApi(
        server=server,
        url=server.url,
        kubeconfig=server.write_kubeconfig(tmp_path / "kubeconfig"),
        client=api_client_for(server.url),
    )
    try:
        yield api
    finally:
        api.client.close()
        server.stop()


def test_an_expired_token_is_410_with_a_successor_at_the_latest_state(short_history: KubeApi) -> None:
    api = short_history
    custom = api.custom
    for i in range(4):
        custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget(f"w{i}"))
    first = _page(api, 2)
    assert _names(first["items"]) == ["w0", "w1"]
    token = first["metadata"]["continue"]
    # Still within the history: consistent.
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w4"))
    assert _names(_page(api, 5, token)["items"]) == ["w2", "w3"]
    # Three more writes push the first page's resourceVersion out of the history.
    for name in ("w5", "w6", "w7"):
        custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget(name))
    reply = raw(api, "GET", f"{COLLECTION}?limit=2&continue={token}")
    assert reply.status == 410
    assert reply.body["reason"] == "Expired"
    assert reply.body["code"] == 410
    assert reply.body["message"] == CONTINUE_EXPIRED
    successor = reply.body["metadata"]["continue"]
    rest = _page(api, 10, successor)
    assert _names(rest["items"]) == ["w2", "w3", "w4", "w5", "w6", "w7"]
    assert int(rest["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
