"""`aso sandbox`: starts the ARM emulator, the Kubernetes API server and the operator; a manifest
applied through its kubeconfig becomes Ready; SIGTERM stops everything; --state survives a restart."""

from __future__ import annotations

import pathlib
from typing import Any

import kubernetes
import yaml

from aso.testing.arm import ArmControlClient, read_env_file
from aso.testing.kube import is_ready, wait_for
from aso.testing.sandbox import SandboxProcess

GROUP, VERSION, PLURAL = "resources.azure.com", "v1api20200601", "resourcegroups"


def _ready(api: Any, name: str) -> dict[str, Any] | None:
    obj: dict[str, Any] = api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, name)
    return obj if is_ready(obj) else None


def test_sandbox_runs_the_readme_session_and_restarts_from_state(
    tmp_path: pathlib.Path, conformance: pathlib.Path
) -> None:
    workdir, state = tmp_path / "sandbox", tmp_path / "state"
    sandbox = SandboxProcess(workdir, state).start()
    try:
        env = read_env_file(workdir / "sandbox.env")
        assert {
            "AZURE_RESOURCE_MANAGER_ENDPOINT",
            "AZURE_SUBSCRIPTION_ID",
            "KUBECONFIG",
            "SSL_CERT_FILE",
        } <= set(env)
        api = kubernetes.client.CustomObjectsApi(sandbox.api_client())
        sample = yaml.safe_load(
            (conformance / "aso-samples/resources/v1api20200601/v1api20200601_resourcegroup.yaml").read_text()
        )
        api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, sample)
        obj = wait_for(lambda: _ready(api, "aso-sample-rg"), timeout=60)
        arm = ArmControlClient(env["AZURE_RESOURCE_MANAGER_ENDPOINT"], env["SSL_CERT_FILE"])
        assert arm.get_resource(obj["status"]["id"]) is not None
    finally:
        code = sandbox.stop()
    assert code == 0, sandbox.console()
    assert not (workdir / "ready").exists()

    sandbox = SandboxProcess(workdir, state).start()
    try:
        env = read_env_file(workdir / "sandbox.env")
        api = kubernetes.client.CustomObjectsApi(sandbox.api_client())
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
        assert sandbox.stop() == 0, sandbox.console()
