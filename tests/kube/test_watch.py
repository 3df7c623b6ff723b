"""Watch semantics: initial state, resume from a resourceVersion, selectors, bookmarks, 410 Gone."""

from __future__ import annotations

import threading
from typing import Any

from kubernetes import watch

from aso.sandbox.kube import KubeApiServerThread
from aso.testing.kube import KubeApi, api_client_for

from .conftest import GROUP, PLURAL, watch_events, widget, widget_crd


def _stream(
    api: KubeApi, query: str, stop_after: int, path: str = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}"
) -> list[dict[str, Any]]:
    """Read ``stop_after`` watch events from a raw stream."""
    return watch_events(api, f"{path}?watch=true&{query}", lambda events: len(events) >= stop_after)


def test_watch_from_list_resource_version_sees_changes(custom: Any, kube_api: KubeApi) -> None:
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("before"))
    listed = custom.list_namespaced_custom_object(GROUP, "v1", "default", PLURAL)
    rv = listed["metadata"]["resourceVersion"]
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("after"))
    custom.patch_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "after", {"spec": {"size": "large"}}
    )
    custom.delete_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "after")
    events = _stream(kube_api, f"resourceVersion={rv}", 3)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "after"),
        ("MODIFIED", "after"),
        ("DELETED", "after"),
    ]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions)
    assert versions[0] > int(rv)


def test_watch_without_version_starts_with_current_state(custom: Any, kube_api: KubeApi) -> None:
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("a"))
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("b"))
    events = _stream(kube_api, "", 2)
    assert sorted((e["type"], e["object"]["metadata"]["name"]) for e in events) == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]
    initial = _stream(
        kube_api, "sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan", 3
    )
    assert initial[-1]["type"] == "BOOKMARK"
    assert initial[-1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_live_watch_with_the_python_client_and_label_selector_transitions(
    custom: Any, kube_api: KubeApi
) -> None:
    seen: list[tuple[str, str]] = []
    # Watching from the list's resourceVersion: every change after it is delivered, however late
    # the watch connects (no wait for it to connect).
    since = custom.list_namespaced_custom_object(GROUP, "v1", "default", PLURAL)["metadata"][
        "resourceVersion"
    ]

    def run() -> None:
        w = watch.Watch()
        for event in w.stream(
            custom.list_namespaced_custom_object,
            GROUP,
            "v1",
            "default",
            PLURAL,
            label_selector="team=a",
            resource_version=since,
            timeout_seconds=5,
        ):
            seen.append((event["type"], event["object"]["metadata"]["name"]))
            if len(seen) == 3:
                w.stop()

    thread = threading.Thread(target=run)
    thread.start()
    body = widget("w1")
    body["metadata"]["labels"] = {"team": "a"}
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, body)
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("other"))
    custom.patch_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "w1", {"spec": {"size": "large"}})
    custom.patch_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, "w1", {"metadata": {"labels": {"team": "b"}}}
    )
    thread.join(10)
    # Leaving the selector is a DELETED for this watcher, as on a real cluster.
    assert seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def test_too_old_resource_version_is_410_gone(tmp_path: Any) -> None:
    with KubeApiServerThread(crds=[widget_crd()], history_size=5) as server:
        client = api_client_for(server.url)
        api = KubeApi(server=server, url=server.url, kubeconfig=tmp_path / "k", client=client)
        custom = api.custom
        first = custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w0"))
        for i in range(10):
            custom.patch_namespaced_custom_object(
                GROUP, "v1", "default", PLURAL, "w0", {"spec": {"replicas": i}}
            )
        events = _stream(api, f"resourceVersion={first['metadata']['resourceVersion']}", 1)
        assert events[0]["type"] == "ERROR"
        assert events[0]["object"]["code"] == 410
        assert events[0]["object"]["reason"] == "Expired"
        assert "too old resource version" in events[0]["object"]["message"]
        client.close()


def test_bookmarks_carry_the_current_resource_version(tmp_path: Any) -> None:
    with KubeApiServerThread(crds=[widget_crd()], bookmark_interval=0.2) as server:
        client = api_client_for(server.url)
        api = KubeApi(server=server, url=server.url, kubeconfig=tmp_path / "k", client=client)
        created = api.custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w0"))
        rv = created["metadata"]["resourceVersion"]
        events = _stream(api, f"resourceVersion={rv}&allowWatchBookmarks=true", 1)
        assert events[0]["type"] == "BOOKMARK"
        assert int(events[0]["object"]["metadata"]["resourceVersion"]) >= int(rv)
        client.close()


def test_cluster_wide_watch_of_namespaces(kube_api: KubeApi, core: Any) -> None:
    rv = core.list_namespace().metadata.resource_version
    core.create_namespace({"metadata": {"name": "fresh"}})
    events = _stream(kube_api, f"resourceVersion={rv}", 1, path="/api/v1/namespaces")
    assert events[0]["type"] == "ADDED"
    assert events[0]["object"]["metadata"]["name"] == "fresh"
