"""The README's complete example, applied as it is written, and the plugin's generated data."""

from __future__ import annotations

import base64
import pathlib
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess, create, get, wait_for, wait_ready
from aso_cosmosdb.plugin import KINDS

pytestmark = pytest.mark.timeout(600)

GROUP = "documentdb.azure.com"
PLUGIN = pathlib.Path(__file__).resolve().parents[1]
README = PLUGIN / "README.md"


def _example() -> list[dict[str, Any]]:
    block = re.search(r"## A complete example\n\n```yaml\n(.*?)```", README.read_text(), re.S)
    assert block is not None, "README: no complete example"
    return [doc for doc in yaml.safe_load_all(block.group(1)) if doc]


def test_every_kind_is_valid_and_documented() -> None:
    text = README.read_text()
    for kind in KINDS:
        assert kind.problems() == [], kind.kind
        assert f"`{kind.kind}`" in text, kind.kind


def test_the_readme_example_becomes_ready_with_its_exports(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
    docs = _example()
    plurals = {kind.kind: kind.plural for kind in KINDS} | {"ResourceGroup": "resourcegroups"}
    for doc in docs:
        create(kube_api, doc, plural=plurals[doc["kind"]])
    for doc in docs:
        group, version = doc["apiVersion"].split("/")
        wait_ready(kube_api, (group, version, plurals[doc["kind"]]), doc["metadata"]["name"], timeout=90)

    def secret() -> dict[str, str] | None:
        for item in kube_api.core.list_namespaced_secret("default").items:
            if item.metadata.name == "shop-cosmos-keys":
                return {k: base64.b64decode(v).decode() for k, v in (item.data or {}).items()}
        return None

    keys = wait_for(secret, timeout=30, what="Secret shop-cosmos-keys")
    assert sorted(keys) == sorted(
        [
            "primaryMasterKey",
            "secondaryMasterKey",
            "primaryReadonlyMasterKey",
            "secondaryReadonlyMasterKey",
            "endpoint",
        ]
    )
    assert keys["endpoint"] == "https://shop-cosmos.documents.azure.com:443/"
    info = kube_api.core.read_namespaced_config_map("shop-cosmos-info", "default").data
    assert info == {"endpoint": "https://shop-cosmos.documents.azure.com:443/"}

    # Deleting a container object deletes the container in Azure; its database stays.
    container = get(kube_api, (GROUP, "v1api20240815", "sqldatabasecontainers"), "order-lines")
    assert container is not None
    container_id = container["status"]["id"]
    assert arm_emulator.control.get_resource(container_id) is not None
    kube_api.custom.delete_namespaced_custom_object(
        GROUP, "v1api20240815", "default", "sqldatabasecontainers", "order-lines"
    )
    wait_for(
        lambda: get(kube_api, (GROUP, "v1api20240815", "sqldatabasecontainers"), "order-lines") is None,
        timeout=60,
        what="the container object gone",
    )
    assert arm_emulator.control.get_resource(container_id) is None
    assert arm_emulator.control.get_resource(container_id.rsplit("/containers/", 1)[0]) is not None


def test_committed_schemas_are_what_the_pinned_sdk_releases_generate() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aso", "schemas", "--check", str(PLUGIN)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
