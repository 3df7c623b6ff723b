"""``python -m aso.sandbox.kube``: run the local Kubernetes API server until interrupted."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from aso.common import wait_for_stop

from .server import KubeApiServer


async def _serve(
    port: int, host: str, state: Path | None, kubeconfig: Path | None, crds: tuple[Path, ...]
) -> None:
    server = KubeApiServer(host=host, port=port, state_dir=state, crds=list(crds))
    await server.start()
    if kubeconfig is not None:
        server.write_kubeconfig(kubeconfig)
    click.echo(f"Kubernetes API server listening on {server.url}", err=True)
    if kubeconfig is not None:
        click.echo(f"export KUBECONFIG={kubeconfig}", err=True)
    try:
        await wait_for_stop()
    finally:
        await server.stop()


@click.command()
@click.option("--port", type=int, default=0, show_default=True, help="TCP port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--state", type=click.Path(file_okay=False, path_type=Path), help="Directory to persist objects in."
)
@click.option(
    "--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help="Write a kubeconfig here."
)
@click.option(
    "--crd",
    "crds",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="CRD YAML file or directory to install at start.",
)
@click.option("--log-level", default="WARNING", show_default=True)
def main(
    port: int, host: str, state: Path | None, kubeconfig: Path | None, crds: tuple[Path, ...], log_level: str
) -> None:
    """Run the local Kubernetes API server."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(port, host, state, kubeconfig, crds))


if __name__ == "__main__":
    main()
