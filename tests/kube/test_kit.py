"""The test kit itself (aso.testing.kube) and the server's start/stop API and command line."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import kopf
import kubernetes
import pytest
import yaml

from aso.sandbox.kube import KubeApiServer
from aso.testing.kube import KubeApi, async_wait_for, is_ready, wait_for, wait_ready

from .conftest import GROUP, PLURAL, widget, widget_crd


def test_kube_api_fixture_gives_kubeconfig_and_client(kube_api: KubeApi) -> None:
    assert kube_api.url.startswith("http://127.0.0.1:")
    config = yaml.safe_load(kube_api.kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"] == kube_api.url
    client = kubernetes.config.new_client_from_config(config_file=str(kube_api.kubeconfig))
    names = [n.metadata.name for n in kubernetes.client.CoreV1Api(client).list_namespace().items]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    client.close()


def test_kubeconfig_env_serves_kopf_client_login(kubeconfig_env: Path, kube_api: KubeApi) -> None:
    logger = logging.getLogger("test")
    info = kopf.login_via_client(logger=logger, settings=kopf.OperatorSettings())
    assert info is not None
    assert info.server == kube_api.url
    piggybacked = kopf.login_with_kubeconfig(logger=logger, settings=kopf.OperatorSettings())
    assert piggybacked is not None
    assert piggybacked.server == kube_api.url


def test_install_crds_from_files_and_wait_ready(kube_api: KubeApi, tmp_path: Path) -> None:
    crd_file = tmp_path / "crds" / "widgets.yaml"
    crd_file.parent.mkdir()
    crd_file.write_text(yaml.safe_dump(widget_crd()))
    assert kube_api.install_crds(crd_file.parent) == [f"{PLURAL}.{GROUP}"]
    custom = kube_api.custom
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))

    def mark_ready() -> None:
        time.sleep(0.3)
        custom.patch_namespaced_custom_object_status(
            GROUP,
            "v1",
            "default",
            PLURAL,
            "w1",
            {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        )

    thread = threading.Thread(target=mark_ready)
    thread.start()
    obj = wait_ready(kube_api, (GROUP, "v1", PLURAL), "w1", namespace="default", timeout=5)
    thread.join()
    assert is_ready(obj)


def test_wait_ready_reports_the_last_condition(kube_api: KubeApi) -> None:
    custom = kube_api.custom
    custom.create_namespaced_custom_object(GROUP, "v1", "default", PLURAL, widget("w1"))
    condition = {"type": "Ready", "status": "False", "reason": "QuotaExceeded", "message": "no capacity"}
    custom.patch_namespaced_custom_object_status(
        GROUP, "v1", "default", PLURAL, "w1", {"status": {"conditions": [condition]}}
    )
    with pytest.raises(AssertionError, match="QuotaExceeded"):
        wait_ready(kube_api.client, (GROUP, "v1", PLURAL), "w1", namespace="default", timeout=0.3)


def test_wait_for_helpers() -> None:
    calls = iter([0, 0, 5])
    assert wait_for(lambda: next(calls), timeout=2, interval=0.01) == 5
    with pytest.raises(AssertionError, match=r"timed out after 0\.05s waiting for nothing"):
        wait_for(lambda: None, timeout=0.05, interval=0.01, what="nothing")

    async def later() -> int:
        return 7

    assert asyncio.run(async_wait_for(later, timeout=1)) == 7


async def test_async_server_api(tmp_path: Path) -> None:
    async with KubeApiServer(crds=[widget_crd()]) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", namespace="default")
        assert yaml.safe_load(kubeconfig.read_text())["current-context"] == "aso-sandbox"
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.url}/apis/{GROUP}/v1") as response,
        ):
            assert response.status == 200
            body: dict[str, Any] = await response.json()
        assert body["groupVersion"] == f"{GROUP}/v1"
        assert await server.install_crds([widget_crd()]) == [f"{PLURAL}.{GROUP}"]  # update in place


def test_command_line_runs_persists_and_stops(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    state = tmp_path / "state"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aso.sandbox.kube",
            "--port",
            "0",
            "--state",
            str(state),
            "--kubeconfig",
            str(kubeconfig),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("Kubernetes API server listening on http://127.0.0.1:")
        url = line.split()[-1]
        client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
        kubernetes.client.CoreV1Api(client).create_namespace({"metadata": {"name": "persisted"}})
        client.close()
        assert yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"] == url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()
    assert process.returncode == 0
    assert '"persisted"' in (state / "snapshot.json").read_text()
