"""Fixtures that run the real operator (``python -m aso run``) against the local backends.

The operator runs as a subprocess so a test can kill it mid-operation and start it again. Plugins
under test that are not installed are made discoverable the way an installed distribution is: an
entry point in a ``*.dist-info`` directory on the subprocess's ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from aso.testing.arm import ArmEmulatorHandle
from aso.testing.kube import KubeApi, wait_for

__all__ = [
    "OperatorProcess",
    "PluginPath",
    "create",
    "ensure_namespace",
    "free_port",
    "get",
    "plugin_path",
    "ready",
    "wait_ready_state",
]

#: (group, version, plural) of a custom resource collection.
Which = tuple[str, str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class PluginPath:
    """A directory that makes plugin modules discoverable through ``aso.plugins`` entry points."""

    site: Path
    source_dirs: tuple[Path, ...]

    @property
    def pythonpath(self) -> str:
        return os.pathsep.join(str(p) for p in (self.site, *self.source_dirs))


def plugin_path(
    directory: Path, entry_points: Mapping[str, str], source_dirs: Sequence[Path] = ()
) -> PluginPath:
    """Write a minimal distribution (``name = module`` entry points) into ``directory``."""
    dist = directory / "aso_test_plugins-0.0.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aso-test-plugins\nVersion: 0.0.0\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (dist / "entry_points.txt").write_text(f"[aso.plugins]\n{lines}\n")
    return PluginPath(site=directory, source_dirs=tuple(source_dirs))


@dataclass
class OperatorProcess:
    """One ``aso run`` subprocess; ``start()`` waits until it answers ``/readyz``."""

    kube: KubeApi
    arm: ArmEmulatorHandle
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    plugins: PluginPath | None = None
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"operator-{self.starts}.log"

    def start(self, timeout: float = 60.0) -> OperatorProcess:
        self.starts += 1
        self.port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ASO_"))},
            **self.arm.env(),
            "KUBECONFIG": str(self.kube.kubeconfig),
            "ASO_METRICS_ADDRESS": f"127.0.0.1:{self.port}",
            "AZURE_SYNC_PERIOD": "never",
            "ASO_LRO_INLINE_SECONDS": "5",
            "ASO_RETRY_MAX_DELAY": "2",
            **self.env,
        }
        if self.plugins is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [self.plugins.pythonpath, env.get("PYTHONPATH")])
            )
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "aso", "--log-level", "info", "run"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"operator not ready after {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as resp:
            text: str = resp.read().decode()
            return text

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as when a node dies."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(20)


@pytest.fixture
def operator_plugins() -> PluginPath | None:
    """Override to make uninstalled plugins (e.g. test-only kinds) visible to the operator."""
    return None


@pytest.fixture
def aso_operator(
    kube_api: KubeApi, arm_emulator: ArmEmulatorHandle, tmp_path: Path, operator_plugins: PluginPath | None
) -> Iterator[OperatorProcess]:
    """A not-yet-started operator wired to ``kube_api`` and ``arm_emulator``; call ``.start()``.

    Set ``.env`` before starting to change settings (e.g. ``AZURE_SYNC_PERIOD``).
    """
    process = OperatorProcess(kube=kube_api, arm=arm_emulator, workdir=tmp_path, plugins=operator_plugins)
    try:
        yield process
    finally:
        process.stop()


def create(k8s: KubeApi, obj: dict[str, Any], plural: str | None = None) -> None:
    """Create a custom object; ``plural`` defaults to the lower-cased kind plus ``s``."""
    group, version = obj["apiVersion"].split("/")
    plural = plural or obj["kind"].lower() + "s"
    k8s.custom.create_namespaced_custom_object(group, version, obj["metadata"]["namespace"], plural, obj)


def get(k8s: KubeApi, which: Which, name: str, namespace: str = "default") -> dict[str, Any] | None:
    try:
        obj: dict[str, Any] = k8s.custom.get_namespaced_custom_object(
            which[0], which[1], namespace, which[2], name
        )
        return obj
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def ready(obj: dict[str, Any] | None) -> dict[str, Any]:
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return dict(condition)
    return {}


def wait_ready_state(
    k8s: KubeApi,
    which: Which,
    name: str,
    *,
    status: str = "True",
    reason: str | None = None,
    namespace: str = "default",
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Wait until the Ready condition has ``status`` (and ``reason``); return the object."""

    def check() -> dict[str, Any] | None:
        obj = get(k8s, which, name, namespace)
        condition = ready(obj)
        if condition.get("status") == status and (reason is None or condition.get("reason") == reason):
            return obj
        return None

    last: list[Any] = []

    def check_and_keep() -> dict[str, Any] | None:
        result = check()
        last[:] = [ready(get(k8s, which, name, namespace))]
        return result

    try:
        return wait_for(check_and_keep, timeout=timeout, interval=0.1)
    except AssertionError as exc:
        raise AssertionError(f"{name}: wanted Ready={status} reason={reason}, last condition {last}") from exc


def ensure_namespace(k8s: KubeApi, name: str, annotations: dict[str, str] | None = None) -> None:
    if not any(ns.metadata.name == name for ns in k8s.core.list_namespace().items):
        k8s.core.create_namespace({"metadata": {"name": name, "annotations": annotations or {}}})
