"""``python -m aso.sandbox.arm --dir DIR [--state DIR]``: run the ARM emulator on its own.

Writes ``DIR/sandbox.env`` and ``DIR/ready`` like ``aso sandbox`` and runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from aso.sandbox.runner import clear_ready, mark_ready, prepare_dirs, start_arm, wait_for_stop, write_env


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aso.sandbox.arm", description=__doc__)
    parser.add_argument("--dir", type=Path, required=True, help="where to write sandbox.env and ready")
    parser.add_argument("--state", type=Path, default=None, help="keep store, CA, key and port here")
    parser.add_argument(
        "--port", type=int, default=0, help="port to listen on (default: free, or the saved one)"
    )
    parser.add_argument(
        "--retry-after",
        type=int,
        default=1,
        help="Retry-After seconds for every operation (-1: the profiles' own values)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    retry_after = None if args.retry_after < 0 else args.retry_after
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args.dir, args.state, args.port, retry_after))


if __name__ == "__main__":
    main()
