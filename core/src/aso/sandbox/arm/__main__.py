"""``python -m aso.sandbox.arm --dir DIR [--state DIR]``: run the ARM emulator on its own.

Writes ``DIR/sandbox.env`` and ``DIR/ready`` like ``aso sandbox`` and runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import click

from aso.common import wait_for_stop
from aso.sandbox.runner import clear_ready, mark_ready, prepare_dirs, start_arm, write_env


async def _main(dir: Path, state: Path | None, port: int, retry_after: int | None) -> None:
    prepare_dirs(dir, state)
    emu, env = await start_arm(dir, state, port=port, retry_after=retry_after)
    try:
        write_env(dir, env)
        mark_ready(dir)
        await wait_for_stop()
    finally:
        clear_ready(dir)
        await emu.stop()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    required=True,
    help="where to write sandbox.env and ready",
)
@click.option(
    "--state", type=click.Path(path_type=Path), default=None, help="keep store, CA, key and port here"
)
@click.option("--port", type=int, default=0, help="port to listen on (default: free, or the saved one)")
@click.option(
    "--retry-after",
    type=int,
    default=1,
    show_default=True,
    help="Retry-After seconds for every operation (-1: the profiles' own values)",
)
def main(directory: Path, state: Path | None, port: int, retry_after: int) -> None:
    """Run the ARM emulator on its own (python -m aso.sandbox.arm): writes DIR/sandbox.env and
    DIR/ready like `aso sandbox` and runs until SIGINT/SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(directory, state, port, None if retry_after < 0 else retry_after))


if __name__ == "__main__":
    main(prog_name="python -m aso.sandbox.arm")
