"""``aso sandbox``: start the local backends, tell the user how to reach them, run until stopped.

:func:`run_sandbox` is a plain sequence of start steps; each step registers its own stop on an
:class:`~contextlib.AsyncExitStack`, so SIGINT/SIGTERM (or an error) stop everything that was
started, in reverse order. Today the only step is the ARM emulator; the Kubernetes API server
and the operator join as further steps.

Files written to ``DIR``:

- ``sandbox.env``: shell ``KEY=value`` lines (``AZURE_RESOURCE_MANAGER_ENDPOINT``,
  ``AZURE_AUTHORITY_HOST``, ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``,
  ``AZURE_SUBSCRIPTION_ID``, ``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``);
- ``arm-ca.pem``: the CA bundle those variables point at;
- ``ready``: created once every backend accepts requests, removed at stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import shutil
import signal
from collections.abc import Mapping
from pathlib import Path

from aso.sandbox.arm import ArmEmulator, EmulatorConfig

log = logging.getLogger(__name__)

READY_FILE = "ready"
ENV_FILE = "sandbox.env"


async def start_arm(
    dir: Path,
    state: Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    retry_after: int | None = 1,
) -> tuple[ArmEmulator, dict[str, str]]:
    """Start the ARM emulator; return it and its ``sandbox.env`` variables.

    With ``state`` the emulator's store, CA, signing key and port live there. ``retry_after``
    caps how long clients are told to wait between polls (``None``: the profiles' values).
    """
    emu = ArmEmulator(
        EmulatorConfig(
            host=host, port=port, state_dir=state / "arm" if state else None, retry_after=retry_after
        )
    )
    await emu.start()
    ca = dir / "arm-ca.pem"
    shutil.copyfile(emu.ca_path, ca)
    p = emu.default_principal
    env = {
        "AZURE_RESOURCE_MANAGER_ENDPOINT": emu.endpoint,
        "AZURE_AUTHORITY_HOST": emu.endpoint,
        "AZURE_TENANT_ID": p.tenant_id,
        "AZURE_CLIENT_ID": p.client_id,
        "AZURE_CLIENT_SECRET": p.client_secret or "",
        "AZURE_SUBSCRIPTION_ID": emu.default.subscription_id,
        "REQUESTS_CA_BUNDLE": str(ca.resolve()),
        "SSL_CERT_FILE": str(ca.resolve()),
    }
    return emu, env


def prepare_dirs(dir: Path, state: Path | None) -> None:
    """Create ``DIR`` (and the state directory) and remove a stale ``ready`` file."""
    dir.mkdir(parents=True, exist_ok=True)
    if state is not None:
        state.mkdir(parents=True, exist_ok=True)
    clear_ready(dir)


def write_env(dir: Path, env: Mapping[str, str]) -> Path:
    """Write ``DIR/sandbox.env`` (usable with ``set -a; . DIR/sandbox.env``)."""
    path = dir / ENV_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()), encoding="utf-8")
    tmp.replace(path)
    return path


def mark_ready(dir: Path) -> Path:
    path = dir / READY_FILE
    path.write_text("ready\n", encoding="utf-8")
    return path


def clear_ready(dir: Path) -> None:
    (dir / READY_FILE).unlink(missing_ok=True)


async def wait_for_stop(stop: asyncio.Event | None = None) -> None:
    """Wait for SIGINT/SIGTERM (or ``stop`` being set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def run_sandbox(
    dir: Path,
    state: Path | None = None,
    *,
    host: str = "127.0.0.1",
    arm_port: int = 0,
    retry_after: int | None = 1,
    stop: asyncio.Event | None = None,
) -> None:
    """Start the sandbox backends, write ``DIR/sandbox.env`` and ``DIR/ready``, run until stopped."""
    prepare_dirs(dir, state)
    env: dict[str, str] = {}
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(clear_ready, dir)
        # Step 1: the ARM emulator.
        arm, arm_env = await start_arm(dir, state, host=host, port=arm_port, retry_after=retry_after)
        stack.push_async_callback(arm.stop)
        env.update(arm_env)
        log.info("ARM emulator at %s", arm.endpoint)
        # Further steps (Kubernetes API server, operator) go here, each pushing its own stop.
        write_env(dir, env)
        mark_ready(dir)
        await wait_for_stop(stop)
