"""With a state directory, a restarted server continues: objects, CRDs and the resourceVersion counter."""

from __future__ import annotations

from pathlib import Path

from aso.testing.kube import start_kube_api, stop_kube_api

from .conftest import GROUP, PLURAL, raw, widget, widget_crd


def test_restart_continues_where_it_stopped(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = start_kube_api(tmp_path, [widget_crd()], state_dir=state)
    try:
        created = first.custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
        first.custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("gone"))
        first.custom.delete_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "gone")
        first.core.create_namespace({"metadata": {"name": "kept"}})
        last_rv = int(
            first.core.create_namespaced_config_map(
                "kept", {"metadata": {"name": "c"}}
            ).metadata.resource_version
        )
        old_list_rv = first.custom.list_namespaced_custom_object(GROUP, "v1", "default", PLURAL)["metadata"][
            "resourceVersion"
        ]
    finally:
        stop_kube_api(first)
    assert (state / "snapshot.json").exists()

    second = start_kube_api(tmp_path, state_dir=state)
    try:
        again = second.custom.get_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "w1")
        assert again["metadata"]["uid"] == created["metadata"]["uid"]
        assert [
            i["metadata"]["name"]
            for i in second.custom.list_namespaced_custom_object(GROUP, "v1", "default", PLURAL)["items"]
        ] == ["w1"]
        assert second.core.read_namespaced_config_map("c", "kept").metadata.name == "c"
        newer = second.custom.patch_namespaced_custom_object(
            GROUP, "v1", "default", PLURAL, "w1", {"spec": {"size": "large"}}
        )
        assert int(newer["metadata"]["resourceVersion"]) > last_rv
        # History did not survive the restart: a watch from before it must relist (410) ...
        old = created["metadata"]["resourceVersion"]
        path = f"/apis/{GROUP}/v1/namespaces/default/{PLURAL}?watch=true&timeoutSeconds=1"
        gone = raw(second, "GET", f"{path}&resourceVersion={old}")
        assert gone.body["type"] == "ERROR"
        assert gone.body["object"]["code"] == 410
        # ... while a watch from the last version before the stop continues with what came after.
        since = raw(second, "GET", f"{path}&resourceVersion={old_list_rv}")
        assert since.body["type"] == "MODIFIED"
        assert since.body["object"]["spec"]["size"] == "large"
    finally:
        stop_kube_api(second)

    # A crash (no clean stop) keeps what the journal recorded.
    third = start_kube_api(tmp_path, state_dir=state)
    third.custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w-after-crash"))
    # Every write is journalled at once: a second server reading the directory while the first
    # still runs (as after a crash) sees it.
    fourth = start_kube_api(tmp_path / "other", state_dir=state)
    try:
        names = [
            i["metadata"]["name"]
            for i in fourth.custom.list_namespaced_custom_object(GROUP, "v1", "default", PLURAL)["items"]
        ]
        assert names == ["w-after-crash", "w1"]
    finally:
        stop_kube_api(fourth)
        stop_kube_api(third)
