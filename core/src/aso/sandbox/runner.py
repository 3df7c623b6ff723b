"""``aso sandbox``: start the local backends, tell the user how to reach them, run until stopped.

:func:`run_sandbox` is a plain sequence of start steps; each step registers its own stop on an
:class:`~contextlib.AsyncExitStack`, so SIGINT/SIGTERM (or an error) stop everything that was
started, in reverse order. The steps: the ARM emulator, TLS for the conversion webhook, the
Kubernetes API server (with the CRDs of the installed plugins, their conversion webhook pointed
at the operator's ``/convert``), then the operator: ``aso run`` as a child process, so the
backends and the operator talk only over their sockets, as everywhere else. The child is watched
and restarted when it exits unasked (:mod:`aso.sandbox.supervisor`).

Files written to ``DIR``:

- ``sandbox.env``: shell ``KEY=value`` lines (``AZURE_RESOURCE_MANAGER_ENDPOINT``,
  ``AZURE_AUTHORITY_HOST``, ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``,
  ``AZURE_SUBSCRIPTION_ID``, ``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``);
- ``arm-ca.pem``: the CA bundle those variables point at;
- ``kubeconfig``: for kubectl and the ``kubernetes`` client (``KUBECONFIG`` in ``sandbox.env``);
- ``webhook.crt``/``webhook.key``: the certificate of the operator's conversion webhook;
- ``crds/``: the CRDs installed; ``operator.log``: what the operator (``aso run``) logs, every
  run of it, a separator line before each restart; ``operator.pid``: the current operator's pid;
- ``ready``: created once every backend and the operator accept requests, removed at stop and
  while the operator is down.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from aso.common import free_port, wait_for_stop
from aso.sandbox.arm import ArmEmulator, EmulatorConfig
from aso.sandbox.kube import KubeApiServer
from aso.sandbox.supervisor import OPERATOR_LOG, PID_FILE, OperatorSupervisor

log = logging.getLogger(__name__)

READY_FILE = "ready"
ENV_FILE = "sandbox.env"
KUBECONFIG_FILE = "kubeconfig"


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
    """Create ``DIR`` (and the state directory) and remove a stale ``ready`` and ``operator.pid``."""
    dir.mkdir(parents=True, exist_ok=True)
    if state is not None:
        state.mkdir(parents=True, exist_ok=True)
    clear_ready(dir)
    (dir / PID_FILE).unlink(missing_ok=True)


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


def webhook_tls(dir: Path) -> tuple[Path, Path, bytes]:
    """A fresh CA and a certificate for 127.0.0.1 for the operator's conversion webhook."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_path, key_path = dir / "webhook.crt", dir / "webhook.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    return cert_path, key_path, ca.cert_pem.bytes()


async def start_kube(
    dir: Path, state: Path | None, crds: list[dict[str, Any]], *, host: str = "127.0.0.1", port: int = 0
) -> tuple[KubeApiServer, Path]:
    """Start the Kubernetes API server with ``crds``; write ``DIR/kubeconfig``."""
    server = KubeApiServer(host=host, port=port, state_dir=state / "kube" if state else None, crds=crds)
    await server.start()
    return server, server.write_kubeconfig(dir / KUBECONFIG_FILE)


def installed_crds(dir: Path, webhook_url: str, ca_pem: bytes) -> list[dict[str, Any]]:
    """The CRDs of the installed plugins (``aso crds``, run as a command: the sandbox never imports
    the operator), their conversion webhook pointed at ``webhook_url``."""
    out = dir / "crds"
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-m", "aso", "crds", "--out", str(out)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"aso crds failed ({done.returncode}):\n{done.stderr.strip()}")
    # A plugin or kind skipped (broken, conflicting) is said on the console, not only in a log.
    for line in done.stderr.splitlines():
        if " skipped" in line:
            print(f"aso sandbox: {line.split(': ', 1)[-1] if ' aso.' in line else line}", flush=True)
    return [
        point_webhook(yaml.safe_load(path.read_text(encoding="utf-8")), webhook_url, ca_pem)
        for path in sorted(out.glob("*.yaml"))
    ]


def point_webhook(crd: dict[str, Any], url: str, ca_pem: bytes) -> dict[str, Any]:
    """``crd`` with its conversion webhook called at ``url``, trusting ``ca_pem`` (changed in place).

    Committed CRDs name the in-cluster Service; the sandbox and tests serve ``/convert`` elsewhere.
    """
    webhook = (crd.get("spec", {}).get("conversion") or {}).get("webhook")
    if webhook is not None:
        webhook["clientConfig"] = {"url": url, "caBundle": base64.b64encode(ca_pem).decode()}
    return crd


async def run_sandbox(
    dir: Path,
    state: Path | None = None,
    *,
    host: str = "127.0.0.1",
    arm_port: int = 0,
    kube_port: int = 0,
    retry_after: int | None = 1,
    operator: bool = True,
    sync_period: str = "1h",
    stop: asyncio.Event | None = None,
) -> None:
    """Start the sandbox backends and the operator, write ``DIR/sandbox.env``, ``DIR/kubeconfig``
    and ``DIR/ready``, and run until stopped."""
    prepare_dirs(dir, state)
    env: dict[str, str] = {}
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(clear_ready, dir)
        # Step 1: the ARM emulator.
        arm, arm_env = await start_arm(dir, state, host=host, port=arm_port, retry_after=retry_after)
        stack.push_async_callback(arm.stop)
        env.update(arm_env)
        log.info("ARM emulator at %s", arm.endpoint)
        # Step 2: TLS for the conversion webhook and the CRDs of the installed plugins pointing at it.
        cert, key, ca_pem = webhook_tls(dir)
        webhook_port = free_port(host)
        crds = installed_crds(dir, f"https://{host}:{webhook_port}/convert", ca_pem)
        # Step 3: the Kubernetes API server.
        kube, kubeconfig = await start_kube(dir, state, crds, host=host, port=kube_port)
        stack.push_async_callback(kube.stop)
        env["KUBECONFIG"] = str(kubeconfig.resolve())
        log.info("Kubernetes API server at %s with %d CRD(s)", kube.url, len(crds))
        # Step 4: the operator (reconciler and conversion webhook), restarted whenever it exits.
        supervisor: OperatorSupervisor | None = None
        if operator:
            health_port = free_port(host)
            operator_env = {
                **env,
                "AZURE_SYNC_PERIOD": sync_period,
                "ASO_METRICS_ADDRESS": f"{host}:{health_port}",
                "ASO_WEBHOOK_ADDRESS": f"{host}:{webhook_port}",
                "ASO_WEBHOOK_CERT": str(cert),
                "ASO_WEBHOOK_KEY": str(key),
            }
            supervisor = OperatorSupervisor(
                dir,
                operator_env,
                health_port,
                on_down=lambda: clear_ready(dir),
                on_up=lambda: mark_ready(dir),
            )
            stack.push_async_callback(supervisor.stop)
            proc = await supervisor.start()
            log.info(
                "operator running (pid %d), metrics on %s:%d, log %s",
                proc.pid,
                host,
                health_port,
                dir / OPERATOR_LOG,
            )
        write_env(dir, env)
        mark_ready(dir)
        print_usage(dir, operator)
        if supervisor is not None:
            supervisor.watch()
        await wait_for_stop(stop)


def print_usage(dir: Path, operator: bool) -> None:
    """Tell the user how to reach the sandbox (stdout)."""
    lines = [
        f"aso sandbox ready in {dir}",
        f"  export KUBECONFIG={(dir / KUBECONFIG_FILE).resolve()}",
        f"  set -a; . {(dir / ENV_FILE).resolve()}; set +a   # Azure SDK settings of the ARM emulator",
        "  kubectl apply -f resourcegroup.yaml; kubectl get resourcegroups -w",
    ]
    if operator:
        lines.append(
            f"  operator log {(dir / OPERATOR_LOG).resolve()}, pid in {(dir / PID_FILE).resolve()}"
            " (restarted if it exits)"
        )
    else:
        lines.append("  (started without the operator: run `aso run` with those settings)")
    lines.append("Stop with Ctrl-C.")
    print("\n".join(lines), flush=True)
