"""The Azure CLI (``azure-cli`` from PyPI) against ``aso sandbox``, configured only from
``sandbox.env`` and documented ``az`` commands: the session of the emulator README, run as is.

The CLI is large: it is installed once into a virtual environment under the user's cache
directory, keyed by its version, and reused by later runs (a first install takes a few minutes).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aso.testing.arm import read_env_file

AZURE_CLI_VERSION = "2.91.0"
README = Path(__file__).parents[2] / "core" / "src" / "aso" / "sandbox" / "arm" / "README.md"

pytestmark = pytest.mark.slow


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aso-tests" / f"azure-cli-{AZURE_CLI_VERSION}"


@pytest.fixture(scope="session")
def az_python() -> Path:
    """The Python of a virtual environment holding ``azure-cli`` (``python -m azure.cli`` is ``az``)."""
    venv = _cache_dir()
    python = venv / "bin" / "python"
    done = venv / ".installed"
    if not done.exists():
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                f"azure-cli=={AZURE_CLI_VERSION}",
            ],
            check=True,
            timeout=1500,
        )
        done.write_text(AZURE_CLI_VERSION)
    return python


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Path]:
    """``aso sandbox --no-operator`` (the ARM emulator and the API server); yields its DIR."""
    workdir = tmp_path / "sandbox"
    aso = Path(sys.executable).with_name("aso")
    proc = subprocess.Popen([str(aso), "sandbox", "--dir", str(workdir), "--no-operator"])
    try:
        deadline = time.monotonic() + 120
        while not (workdir / "ready").exists():
            assert proc.poll() is None, f"aso sandbox exited with {proc.returncode}"
            assert time.monotonic() < deadline, "aso sandbox did not become ready"
            time.sleep(0.1)
        yield workdir
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


def _readme_session() -> str:
    """The ``az`` session block of the emulator README."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"## The Azure CLI against it\n.*?```bash\n(.*?)```", text, re.S)
    assert match, "the README has no Azure CLI session"
    return match.group(1)


def test_azure_cli_session_from_the_readme(az_python: Path, sandbox: Path, tmp_path: Path) -> None:
    env = read_env_file(sandbox / "sandbox.env")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # `az` as the README's reader has it: the cached CLI.
    (bin_dir / "az").write_text(f'#!/bin/sh\nexec "{az_python}" -m azure.cli "$@"\n')
    (bin_dir / "az").chmod(0o755)
    script = f"set -euo pipefail\nset -a; . {sandbox / 'sandbox.env'}; set +a\n" + _readme_session()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "REQUESTS_CA", "SSL_CERT"))}
    result = subprocess.run(
        ["bash", "-c", script],
        env={
            **clean,
            "PATH": f"{bin_dir}:{clean.get('PATH', '')}",
            "AZURE_CONFIG_DIR": str(tmp_path / "azure-config"),
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    out = result.stdout
    # What the session printed: the subscription, the group's state, the keys' names, and
    # `az group exists` after the delete.
    assert out.split() == [env["AZURE_SUBSCRIPTION_ID"], "Succeeded", "key1", "key2", "false"], out
