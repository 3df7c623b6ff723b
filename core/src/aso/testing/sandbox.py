"""``aso sandbox`` as a subprocess, for tests of the sandbox itself: start it, read its console and
files, find its operator, stop it with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import kubernetes

from aso.common import stop_process

__all__ = ["SandboxProcess", "pid_alive"]


class SandboxProcess:
    """Runs ``aso sandbox --dir DIR`` with a clean environment, its console written to a file."""

    def __init__(self, workdir: Path, state: Path | None = None, *, sync_period: str = "never") -> None:
        self.workdir = workdir
        self.args = [
            sys.executable,
            "-m",
            "aso",
            "sandbox",
            "--dir",
            str(workdir),
            "--sync-period",
            sync_period,
        ]
        if state is not None:
            self.args += ["--state", str(state)]
        self.console_path = workdir.parent / f"{workdir.name}-console-{time.monotonic_ns()}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def ready_path(self) -> Path:
        return self.workdir / "ready"

    def start(self, timeout: float = 90.0) -> SandboxProcess:
        """Start the sandbox and wait for ``DIR/ready``."""
        self.ready_path.unlink(missing_ok=True)
        with self.console_path.open("wb") as console:
            self.proc = subprocess.Popen(
                self.args,
                stdout=console,
                stderr=subprocess.STDOUT,
                # The sandbox's settings only, not the caller's (a test's own backends, say).
                env={
                    k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ASO_", "KUBECONFIG"))
                },
            )
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.kill()
            raise
        return self

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Wait for ``DIR/ready``; fail at once, with the console, if the sandbox exits."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while not self.ready_path.exists():
            assert self.proc.poll() is None, f"sandbox exited with {self.proc.returncode}:\n{self.console()}"
            assert time.monotonic() < deadline, f"sandbox not ready after {timeout:g} s:\n{self.console()}"
            time.sleep(0.1)

    def console(self) -> str:
        """What the sandbox printed so far (stdout and stderr)."""
        return self.console_path.read_text(encoding="utf-8", errors="replace")

    def operator_log(self) -> str:
        return (self.workdir / "operator.log").read_text(encoding="utf-8", errors="replace")

    def operator_pid(self) -> int:
        """The current operator child's pid, from ``DIR/operator.pid``."""
        return int((self.workdir / "operator.pid").read_text(encoding="utf-8"))

    def api_client(self) -> Any:
        """A ``kubernetes.client.ApiClient`` for the sandbox's API server (``DIR/kubeconfig``)."""
        return kubernetes.config.new_client_from_config(config_file=str(self.workdir / "kubeconfig"))

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM the sandbox and return its exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """SIGTERM the sandbox, SIGKILL it if it is still there after 30 s (for failed starts)."""
        if self.proc is not None:
            stop_process(self.proc)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return True  # no /proc (not Linux): os.kill said it exists
    return stat.rpartition(")")[2].split()[0] != "Z"
