"""Small helpers every room of aso-core uses (the operator, the backends, the test kit): one of
each, here because those rooms may not import each other. Nothing here knows aso's kinds."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import signal
import socket
import subprocess
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

__all__ = [
    "LoopThread",
    "copy_json",
    "free_port",
    "get_path",
    "merge_patch",
    "set_path",
    "stop_on_signals",
    "stop_process",
    "utc_now",
    "wait_for_stop",
]

T = TypeVar("T")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the OS's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (much cheaper than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def merge_patch(target: Any, patch: Any, whole: frozenset[str] = frozenset()) -> Any:
    """RFC 7386 JSON merge patch (objects merge, ``null`` deletes, anything else replaces), with the
    keys in ``whole`` replaced as a whole at any depth (ARM's PATCH replaces ``tags``). The result
    shares nothing with ``target`` or ``patch``."""
    if not isinstance(patch, dict):
        return copy_json(patch)
    out = {key: copy_json(value) for key, value in target.items()} if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif key in whole:
            out[key] = copy_json(value)
        else:
            out[key] = merge_patch(out.get(key), value, whole)
    return out


def get_path(obj: Any, path: str, default: Any = None) -> Any:
    """The value at a dotted path (``properties.keys[0].value``: a list index as ``[i]`` or ``.i``),
    or ``default`` when a step is missing."""
    node = obj
    for part in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return default
    return node


def set_path(obj: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path of maps, making (or replacing with) maps on the way."""
    *parents, last = path.split(".")
    for part in parents:
        child = obj.get(part)
        if not isinstance(child, dict):
            child = obj[part] = {}
        obj = child
    obj[last] = value


def utc_now(digits: int = 0) -> str:
    """Now in UTC as RFC 3339 with ``digits`` of the second's fraction (0, 3 or 6) and a ``Z``:
    Kubernetes' timestamps have 0, its MicroTime 6, ARM's 3 or more."""
    text = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (text[: 20 + digits] if digits else text[:19]) + "Z"


def stop_process(proc: subprocess.Popen[Any], timeout: float = 30.0) -> int:
    """SIGTERM ``proc`` (if it still runs) and wait for it, SIGKILL it after ``timeout`` seconds;
    its exit code."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout)


def stop_on_signals(stop: asyncio.Event) -> list[signal.Signals]:
    """SIGINT and SIGTERM set ``stop`` from now on; returns the signals whose handler was installed
    (none off the main thread, or where the loop takes no signal handlers)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    return installed


async def wait_for_stop(stop: asyncio.Event | None = None) -> None:
    """Wait for SIGINT/SIGTERM (or ``stop`` being set); the handlers are removed again after."""
    stop = stop or asyncio.Event()
    installed = stop_on_signals(stop)
    try:
        await stop.wait()
    finally:
        loop = asyncio.get_running_loop()
        for sig in installed:
            loop.remove_signal_handler(sig)


class LoopThread:
    """An asyncio loop of its own in a daemon thread: ``start`` runs ``setup`` there and waits (its
    exception is raised in the caller), ``call`` runs a coroutine there, ``stop`` runs ``teardown``
    and ends the thread. For servers that tests and the sandbox run beside synchronous code."""

    def __init__(
        self,
        name: str,
        setup: Callable[[], Awaitable[Any]],
        teardown: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.name = name
        self._setup = setup
        self._teardown = teardown
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = threading.Event()
        self._failure: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._setup())
        except BaseException as exc:  # raised in the starting thread
            self._failure = exc
            self._started.set()
            self.loop.close()
            return
        self._started.set()
        try:
            self.loop.run_forever()
            if self._teardown is not None:
                self.loop.run_until_complete(self._teardown())
        finally:
            self.loop.close()

    def start(self, timeout: float = 60.0) -> None:
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError(f"{self.name} did not start within {timeout} s")
        if self._failure is not None:
            raise self._failure

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and self._failure is None

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on this thread's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        if not self._thread.is_alive():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
