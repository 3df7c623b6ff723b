"""Fixtures that run the real operator (``python -m aso run``) against the local backends.

The operator runs as a subprocess so a test can kill it mid-operation and start it again. Plugins
under test that are not installed are made discoverable the way an installed distribution is: an
entry point in a ``*.dist-info`` directory on the subprocess's ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from aso.common import free_port, stop_process
from aso.testing.arm import ArmEmulatorHandle
from aso.testing.kube import (
    ConversionWebhook,
    KubeApi,
)

__all__ = [
    "OperatorProcess",
    "PluginPath",
    "plugin_path",
]


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
    #: Serves ``/convert`` here when set (the ``conversion_webhook`` fixture); ``env`` may override.
    webhook: ConversionWebhook | None = None
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"operator-{self.starts}.log"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def second(self, workdir: Path, env: dict[str, str]) -> OperatorProcess:
        """Another operator against the same backends and plugins (a standby, another shard) with
        its own ``workdir`` (made here) and ``env``; not started, and the caller stops it. It serves
        no conversion webhook (this one's port is this one's)."""
        workdir.mkdir(parents=True, exist_ok=True)
        return OperatorProcess(kube=self.kube, arm=self.arm, workdir=workdir, plugins=self.plugins, env=env)

    def start(self, timeout: float = 60.0) -> OperatorProcess:
        """Start ``aso run`` with ``env`` and wait until it answers ``/readyz``; a no-op while it runs.

        The metrics port is picked free just before the start, but another process (any outgoing
        connection takes a port of the same range) can bind it first: then it starts again on
        another port, up to three times."""
        if self.running:
            return self
        tries = 0
        while True:
            try:
                return self._start(timeout)
            except RuntimeError as exc:
                tries += 1
                if tries == 3 or f"('127.0.0.1', {self.port}): address already in use" not in str(exc):
                    raise

    def _start(self, timeout: float) -> OperatorProcess:
        self.starts += 1
        # The webhook's port was picked earlier and is free until the operator binds it, so a
        # fresh pick can return it again: never serve metrics there.
        taken = {self.webhook.port} if self.webhook is not None else set()
        self.port = free_port()
        while self.port in taken:
            self.port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ASO_"))},
            **self.arm.env(),
            "KUBECONFIG": str(self.kube.kubeconfig),
            "ASO_METRICS_ADDRESS": f"127.0.0.1:{self.port}",
            "AZURE_SYNC_PERIOD": "never",
            "ASO_RETRY_MAX_DELAY": "2",
            **(self.webhook.env() if self.webhook is not None else {}),
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
        if self.proc is not None:
            stop_process(self.proc, 20)


@pytest.fixture
def operator_plugins() -> PluginPath | None:
    """Override to make uninstalled plugins (e.g. test-only kinds) visible to the operator."""
    return None


@pytest.fixture
def aso_operator(
    kube_api: KubeApi,
    arm_emulator: ArmEmulatorHandle,
    tmp_path: Path,
    operator_plugins: PluginPath | None,
    conversion_webhook: ConversionWebhook,
) -> Iterator[OperatorProcess]:
    """The operator wired to ``kube_api``, ``arm_emulator`` and ``conversion_webhook``, **not yet
    started**: set ``.env`` (e.g. ``AZURE_SYNC_PERIOD``) and call ``.start()``. Use
    ``running_operator`` for one already running with the default settings.
    """
    process = OperatorProcess(
        kube=kube_api,
        arm=arm_emulator,
        workdir=tmp_path,
        plugins=operator_plugins,
        webhook=conversion_webhook,
    )
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def running_operator(aso_operator: OperatorProcess) -> OperatorProcess:
    """``aso_operator``, started (answers ``/readyz``) with the kit's default settings."""
    return aso_operator.start()
