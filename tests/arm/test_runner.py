"""The emulator as a process: ``python -m aso.sandbox.arm``, ``run_sandbox``, and ``--state`` restarts."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import requests

from aso.sandbox.runner import run_sandbox
from aso.testing.arm import ArmEmulatorHandle, EmulatorProcess, read_env_file

SANDBOX_KEYS = {
    "AZURE_RESOURCE_MANAGER_ENDPOINT",
    "AZURE_AUTHORITY_HOST",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_SUBSCRIPTION_ID",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
}


def _get(handle: ArmEmulatorHandle, path: str, token: str) -> requests.Response:
    return requests.get(
        f"{handle.endpoint}{path}",
        headers={"Authorization": f"Bearer {token}"},
        verify=handle.ca_bundle,
        timeout=10,
    )


def test_restart_with_state_continues(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = EmulatorProcess(tmp_path / "run1", state)
    (tmp_path / "run1").mkdir()
    handle = first.start()
    env = read_env_file(tmp_path / "run1" / "sandbox.env")
    assert set(env) == SANDBOX_KEYS
    assert env["AZURE_RESOURCE_MANAGER_ENDPOINT"] == handle.endpoint
    assert Path(env["REQUESTS_CA_BUNDLE"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    rm = handle.resource_client()
    rm.resource_groups.create_or_update("kept", {"location": "westus2", "tags": {"v": "1"}})
    token = handle.credential().get_token("https://management.azure.com/.default").token
    assert first.stop() == 0  # SIGTERM stops it cleanly
    assert not (tmp_path / "run1" / "ready").exists()

    (tmp_path / "run2").mkdir()
    second = EmulatorProcess(tmp_path / "run2", state)
    again = second.start()
    try:
        assert again.endpoint == handle.endpoint  # same port
        assert (again.tenant_id, again.client_id, again.subscription_id) == (
            handle.tenant_id,
            handle.client_id,
            handle.subscription_id,
        )
        # A token issued before the restart is still accepted; the store came back.
        resp = _get(
            again, f"/subscriptions/{again.subscription_id}/resourceGroups/kept?api-version=2020-06-01", token
        )
        assert resp.status_code == 200
        assert resp.json()["tags"] == {"v": "1"}
    finally:
        second.stop()


def test_sigint_stops_the_process(tmp_path: Path) -> None:
    proc = EmulatorProcess(tmp_path)
    proc.start()
    assert proc.proc is not None
    proc.proc.send_signal(signal.SIGINT)
    assert proc.proc.wait(30) == 0
    assert not (tmp_path / "ready").exists()


async def test_run_sandbox_writes_env_and_ready(tmp_path: Path) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_sandbox(tmp_path / "sb", None, stop=stop))
    ready = tmp_path / "sb" / "ready"
    deadline = time.monotonic() + 60  # the sandbox starts its servers; a loaded machine is slow
    # The ready file is the sandbox's only signal (no event to await): poll for it.
    while not (ready.exists() or task.done()) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert ready.exists()
    env = read_env_file(tmp_path / "sb" / "sandbox.env")
    assert set(env) >= SANDBOX_KEYS  # later steps (Kubernetes API server, ...) add their own
    assert env["AZURE_AUTHORITY_HOST"] == env["AZURE_RESOURCE_MANAGER_ENDPOINT"]
    stop.set()
    await asyncio.wait_for(task, 30)
    assert not ready.exists()
