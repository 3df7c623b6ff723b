"""The sandbox's operator: ``aso run`` as a child process, watched and restarted as a Deployment would.

A child that exits without being asked to (a crash, ``kill -9``, any exit code, even 0) is
restarted with the same settings, after a back-off in the manner of Kubernetes' CrashLoopBackOff
but quicker (:class:`Backoff`), so a child that dies at once does not spin. While it is down,
``DIR/ready`` is gone (the ``on_down`` callback); it comes back once the new child answers
``/readyz`` (``on_up``), the same readiness signal as at the first start. Every restart is one
console line, and one separator line in ``DIR/operator.log``, which keeps every run's lines.
``DIR/operator.pid`` holds the current child's pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

OPERATOR_LOG = "operator.log"
PID_FILE = "operator.pid"
READY_TIMEOUT = 60.0


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """How long to wait before a restart: none before the first of a row, then ``first`` seconds
    doubling up to ``cap``. A child that ran ``reset_after`` seconds starts a new row (Kubernetes
    waits 10 s doubling to 5 min and resets after 10 min; a sandbox should come back quicker)."""

    first: float = 1.0
    cap: float = 60.0
    reset_after: float = 120.0

    def delay(self, in_a_row: int) -> float:
        """The wait before restart number ``in_a_row`` of a row of quick exits (1: the first)."""
        if in_a_row <= 1:
            return 0.0
        return min(self.first * 2.0 ** min(in_a_row - 2, 32), self.cap)


def describe_exit(returncode: int) -> str:
    """``signal 9, SIGKILL`` or ``exit code 1``, from a :attr:`Process.returncode`."""
    if returncode < 0:
        try:
            return f"signal {-returncode}, {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


async def spawn_operator(env: Mapping[str, str], log_path: Path) -> asyncio.subprocess.Process:
    """Start ``aso run`` with ``env``, appending its output to ``log_path``."""
    with log_path.open("ab") as log_file:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aso",
            "--log-level",
            "info",
            "run",
            env={**os.environ, **env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches only the sandbox, which then stops the operator once.
            start_new_session=True,
        )


async def wait_operator_ready(
    proc: asyncio.subprocess.Process, health_port: int, log_path: Path, within: float = READY_TIMEOUT
) -> None:
    """Return once ``proc`` answers ``/readyz``; raise :class:`RuntimeError` if it exits first and
    :class:`TimeoutError` (leaving it running) if it is not ready ``within`` seconds."""
    url = f"http://127.0.0.1:{health_port}/readyz"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"the operator exited ({describe_exit(proc.returncode)}); see {log_path}")
        try:
            status = await asyncio.to_thread(_http_status, url)
        except OSError:
            status = 0
        if status == 200:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the operator did not become ready within {within:g} s; see {log_path}")


def _http_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=2) as resp:
        status: int = resp.status
        return status


async def stop_operator(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM ``proc`` and wait for it; SIGKILL it after 30 s."""
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), timeout=30)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def _console(line: str) -> None:
    print(f"aso sandbox: {line}", flush=True)


class OperatorSupervisor:
    """Runs the operator child of a sandbox in ``dir`` and restarts it when it exits unasked.

    :meth:`start` starts the first child and fails if it does not become ready (a sandbox that
    cannot start its operator says so at once); :meth:`watch` then restarts every child that
    exits, until :meth:`stop`.
    """

    def __init__(
        self,
        dir: Path,
        env: Mapping[str, str],
        health_port: int,
        *,
        on_down: Callable[[], object],
        on_up: Callable[[], object],
        backoff: Backoff | None = None,
    ) -> None:
        self.dir = dir
        self.env = dict(env)
        self.health_port = health_port
        self.on_down = on_down
        self.on_up = on_up
        self.backoff = backoff or Backoff()
        #: Restarts so far (Kubernetes' restartCount: never reset).
        self.restarts = 0
        self.proc: asyncio.subprocess.Process | None = None
        self._started_at = 0.0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def log_path(self) -> Path:
        return self.dir / OPERATOR_LOG

    @property
    def pid_path(self) -> Path:
        return self.dir / PID_FILE

    async def start(self) -> asyncio.subprocess.Process:
        """Start the first child; return it once it is ready (stopping it on failure)."""
        proc = await self._spawn()
        try:
            await wait_operator_ready(proc, self.health_port, self.log_path)
        except BaseException:
            await stop_operator(proc)
            raise
        return proc

    def watch(self) -> None:
        """From now on, restart the child whenever it exits unasked."""
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name="aso-sandbox-operator-supervisor")

    async def stop(self) -> None:
        """Stop watching, then stop the child; nothing is restarted from now on."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.proc is not None:
            await stop_operator(self.proc)
        self.pid_path.unlink(missing_ok=True)

    async def _spawn(self) -> asyncio.subprocess.Process:
        self._started_at = time.monotonic()
        self.proc = await spawn_operator(self.env, self.log_path)
        tmp = self.pid_path.with_suffix(".tmp")
        tmp.write_text(f"{self.proc.pid}\n", encoding="utf-8")
        tmp.replace(self.pid_path)
        return self.proc

    async def _supervise(self) -> None:
        in_a_row = 0
        while True:
            assert self.proc is not None
            returncode = await self.proc.wait()
            if self._stopping.is_set():
                return
            ran = time.monotonic() - self._started_at
            in_a_row = 1 if ran >= self.backoff.reset_after else in_a_row + 1
            self.restarts += 1
            self.on_down()
            why, delay = describe_exit(returncode), self.backoff.delay(in_a_row)
            wait = f" in {delay:g} s" if delay else ""
            _console(f"operator exited ({why}); restarting{wait} (restart {self.restarts})")
            log.info("operator pid %d exited (%s) after %.1f s", self.proc.pid, why, ran)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            if self._stopping.is_set():
                return
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            with self.log_path.open("a", encoding="utf-8") as log_file:
                log_file.write(f"----- aso sandbox: restart {self.restarts} at {stamp}, after {why} -----\n")
            try:
                proc = await self._spawn()
                await wait_operator_ready(proc, self.health_port, self.log_path)
            except RuntimeError:
                continue  # it exited before it was ready: the next turn counts and backs off
            except TimeoutError as exc:
                _console(f"{exc}; stopping it")
                await stop_operator(self.proc)
                continue
            except OSError as exc:  # could not even start it: try again after the back-off
                _console(f"could not start the operator: {exc}")
                log.exception("could not start the operator")
                continue
            self.on_up()
            _console(f"operator ready again (pid {proc.pid}, restart {self.restarts})")
