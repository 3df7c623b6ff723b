"""`aso sandbox`: starts the ARM emulator, the Kubernetes API server and the operator; a manifest
applied through its kubeconfig becomes Ready; SIGTERM stops everything; --state survives a restart."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Any

import kubernetes
import yaml

from aso.testing.arm import ArmControlClient, read_env_file
from aso.testing.kube import wait_for

GROUP, VERSION, PLURAL = "resources.azure.com", "v1api20200601", "resourcegroups"


def _start(workdir: pathlib.Path, state: pathlib.Path) -> subprocess.Popen[bytes]:
    (workdir / "ready").unlink(missing_ok=True)
    log = (workdir.parent / f"sandbox-{time.monotonic_ns()}.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aso",
            "sandbox",
            "--dir",
            str(workdir),
            "--state",
            str(state),
            "--sync-period",
            "never",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ASO_", "KUBECONFIG"))},
    )
    deadline = time.monotonic() + 90
    while not (workdir / "ready").exists():
        assert proc.poll() is None, (
            f"sandbox exited with {proc.returncode}: {pathlib.Path(log.name).read_text()}"
        )
        assert time.monotonic() < deadline, "sandbox not ready after 90 s"
        time.sleep(0.2)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(60)


def _ready(api: Any, name: str) -> dict[str, Any] | None:
    obj: dict[str, Any] = api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, name)
    conditions = (obj.get("status") or {}).get("conditions") or []
    return obj if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions) else None


def test_sandbox_runs_the_readme_session_and_restarts_from_state(
    tmp_path: pathlib.Path, conformance: pathlib.Path
) -> None:
    workdir, state = tmp_path / "sandbox", tmp_path / "state"
    proc = _start(workdir, state)
    try:
        env = read_env_file(workdir / "sandbox.env")
        assert {
            "AZURE_RESOURCE_MANAGER_ENDPOINT",
            "AZURE_SUBSCRIPTION_ID",
            "KUBECONFIG",
            "SSL_CERT_FILE",
        } <= set(env)
        client = kubernetes.config.new_client_from_config(config_file=str(workdir / "kubeconfig"))
        api = kubernetes.client.CustomObjectsApi(client)
        sample = yaml.safe_load(
            (conformance / "aso-samples/resources/v1api20200601/v1api20200601_resourcegroup.yaml").read_text()
        )
        api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, sample)
        obj = wait_for(lambda: _ready(api, "aso-sample-rg"), timeout=60)
        arm = ArmControlClient(env["AZURE_RESOURCE_MANAGER_ENDPOINT"], env["SSL_CERT_FILE"])
        assert arm.get_resource(obj["status"]["id"]) is not None
    finally:
        code = _stop(proc)
    assert code == 0
    assert not (workdir / "ready").exists()

    proc = _start(workdir, state)
    try:
        env = read_env_file(workdir / "sandbox.env")
        client = kubernetes.config.new_client_from_config(config_file=str(workdir / "kubeconfig"))
        api = kubernetes.client.CustomObjectsApi(client)
        again = wait_for(lambda: _ready(api, "aso-sample-rg"), timeout=60)
        assert again["metadata"]["uid"] == obj["metadata"]["uid"]
        arm = ArmControlClient(env["AZURE_RESOURCE_MANAGER_ENDPOINT"], env["SSL_CERT_FILE"])
        assert arm.get_resource(obj["status"]["id"]) is not None
        api.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "aso-sample-rg")
        wait_for(
            lambda: not api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["items"],
            timeout=60,
        )
        assert arm.get_resource(obj["status"]["id"]) is None
    finally:
        assert _stop(proc) == 0
