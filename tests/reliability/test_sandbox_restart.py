"""The sandbox watches its operator: a ``kill -9``'d operator child is restarted (and says so), the
sandbox stays up, ``DIR/ready`` comes back, objects reconcile and the conversion webhook answers
again; SIGTERM still stops everything, with no operator left behind."""

from __future__ import annotations

import os
import pathlib
import signal
from typing import Any

import kubernetes
import pytest
from aso_testkinds.objects import RG, resource_group

from aso.sandbox.supervisor import Backoff, describe_exit
from aso.testing.kube import wait_for, wait_ready
from aso.testing.sandbox import SandboxProcess, pid_alive

pytestmark = pytest.mark.timeout(300)

GROUP, STORED, PLURAL = RG
NEWER = "v1api20210401"  # served, not stored: every read and write goes through the webhook


def _kill_and_see_restart(sandbox: SandboxProcess, restart: int) -> tuple[int, int]:
    """``kill -9`` the operator; wait until the sandbox says it restarts it and is ready again.
    Return the old and the new operator pid."""
    old = sandbox.operator_pid()
    os.kill(old, signal.SIGKILL)
    line = "operator exited (signal 9, SIGKILL); restarting"
    wait_for(
        lambda: any(line in x and f"(restart {restart})" in x for x in sandbox.console().splitlines()),
        timeout=30,
        what=f"the console line of restart {restart}",
    )
    assert sandbox.proc is not None
    assert sandbox.proc.poll() is None, sandbox.console()
    # The line is printed after DIR/ready was removed: from here, DIR/ready is the new operator's.
    wait_for(sandbox.ready_path.exists, timeout=90, what="DIR/ready after the restart")
    new = sandbox.operator_pid()
    wait_for(
        lambda: f"operator ready again (pid {new}, restart {restart})" in sandbox.console(),
        timeout=10,
        what="the console line of the new operator",
    )
    assert new != old
    assert pid_alive(new)
    assert not pid_alive(old)
    assert f"----- aso sandbox: restart {restart} at " in sandbox.operator_log()
    return old, new


def _apply_and_wait_ready(client: Any, name: str) -> dict[str, Any]:
    api = kubernetes.client.CustomObjectsApi(client)
    api.create_namespaced_custom_object(GROUP, STORED, "default", PLURAL, resource_group(name))
    return wait_ready(client, (GROUP, STORED, PLURAL), name, namespace="default", timeout=60)


def _convert_through_the_webhook(client: Any, name: str) -> None:
    api = kubernetes.client.CustomObjectsApi(client)
    body = {**resource_group(name), "apiVersion": f"{GROUP}/{NEWER}"}
    api.create_namespaced_custom_object(GROUP, NEWER, "default", PLURAL, body)
    back = api.get_namespaced_custom_object(GROUP, NEWER, "default", PLURAL, name)
    assert back["apiVersion"] == f"{GROUP}/{NEWER}"
    assert back["spec"]["location"] == body["spec"]["location"]
    stored = api.get_namespaced_custom_object(GROUP, STORED, "default", PLURAL, name)
    assert stored["apiVersion"] == f"{GROUP}/{STORED}"
    assert stored["metadata"]["uid"] == back["metadata"]["uid"]


def test_a_killed_operator_is_restarted_and_serves_again(tmp_path: pathlib.Path) -> None:
    sandbox = SandboxProcess(tmp_path / "sandbox").start()
    try:
        client = sandbox.api_client()
        before = _apply_and_wait_ready(client, "rg-before")
        first_run = sandbox.operator_log()

        _, operator = _kill_and_see_restart(sandbox, restart=1)

        assert sandbox.operator_log().startswith(first_run), "the first run's log lines were kept"
        _apply_and_wait_ready(client, "rg-after")
        _convert_through_the_webhook(client, "rg-converted")
        wait_ready(client, (GROUP, NEWER, PLURAL), "rg-converted", namespace="default", timeout=60)
        again = wait_ready(client, (GROUP, STORED, PLURAL), "rg-before", namespace="default", timeout=10)
        assert again["metadata"]["uid"] == before["metadata"]["uid"]
    finally:
        code = sandbox.stop()
    assert code == 0, sandbox.console()
    assert not pid_alive(operator)
    assert not sandbox.ready_path.exists()
    assert not (sandbox.workdir / "operator.pid").exists()


def test_a_second_kill_restarts_it_again(tmp_path: pathlib.Path) -> None:
    sandbox = SandboxProcess(tmp_path / "sandbox").start()
    try:
        client = sandbox.api_client()
        _kill_and_see_restart(sandbox, restart=1)
        _, operator = _kill_and_see_restart(sandbox, restart=2)
        _apply_and_wait_ready(client, "rg-after-two")
        _convert_through_the_webhook(client, "rg-converted")
    finally:
        code = sandbox.stop()
    assert code == 0, sandbox.console()
    assert not pid_alive(operator)
    assert "restart 3" not in sandbox.console(), "nothing restarted during shutdown"


def test_the_back_off_is_quick_then_doubles_to_a_cap() -> None:
    assert [Backoff().delay(n) for n in range(1, 10)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert Backoff().delay(10_000) == 60
    assert describe_exit(-9) == "signal 9, SIGKILL"
    assert describe_exit(0) == "exit code 0"
