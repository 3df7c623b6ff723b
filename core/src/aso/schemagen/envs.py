"""Running the generator in a throwaway environment holding exactly the pinned SDK release.

``aso schemas`` is run in the author's own environment, where another release of the SDK (or
none) may be installed. For each distinct pin of the plugin's configuration it creates a venv
(``uv venv`` when uv is on PATH, else the stdlib ``venv``), installs the pin there, and runs
``python -m aso.schemagen --sdk PIN`` with that venv's interpreter. aso itself and its
dependencies are not installed again: the worker appends this interpreter's import path after
the venv's own, so the pinned SDK wins and everything else resolves from here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path

from aso.schemagen.config import load_config
from aso.schemagen.convert import SchemaGenError

# Run by the venv's interpreter: append the host's import path (site dirs processed, so editable
# installs work), then run the generator for one pin.
_BOOT = """
import json, site, sys
host = json.loads(sys.argv[1])
for entry in host["site_dirs"]:
    site.addsitedir(entry)
for entry in host["paths"]:
    if entry not in sys.path:
        sys.path.append(entry)
from aso.schemagen.__main__ import main
sys.exit(main(host["argv"]))
"""


def _host_path() -> dict[str, list[str]]:
    site_dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    site_dirs |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    paths = [p for p in sys.path if p and p not in site_dirs and Path(p).exists()]
    return {"site_dirs": sorted(d for d in site_dirs if Path(d).is_dir()), "paths": paths}


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def create_env(
    venv: Path, requirement: str, echo: Callable[[str], None] = print, extra: tuple[str, ...] = ()
) -> Path:
    """Create ``venv`` holding ``requirement`` (and the ``extra`` requirements); return its interpreter."""
    uv = shutil.which("uv")
    if uv:
        commands = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(_venv_python(venv)), requirement, *extra],
        ]
    else:
        commands = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(_venv_python(venv)), "-m", "pip", "install", "--quiet", requirement, *extra],
        ]
    for command in commands:
        echo(f"$ {' '.join(command)}")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            output = done.stderr.strip() or done.stdout.strip()
            raise SchemaGenError(f"cannot install {requirement}: {output}")
    return _venv_python(venv)


def run_worker(python: Path, plugin_dir: Path, sdk: str, *, check: bool) -> tuple[int, str, str]:
    argv = [*(["--check"] if check else []), "--sdk", sdk, str(plugin_dir)]
    payload = json.dumps({**_host_path(), "argv": argv})
    done = subprocess.run([str(python), "-c", _BOOT, payload], capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def generate_in_throwaway_envs(
    plugin_dir: Path,
    *,
    check: bool = False,
    echo: Callable[[str], None] = print,
    keep: Path | None = None,
) -> tuple[int, list[str]]:
    """Generate (or ``check``) every schema of ``plugin_dir``, one throwaway venv per SDK pin.

    Returns the exit status (0 fine, 1 stale under ``check``, 2 error) and the worker's lines.
    ``keep`` puts the venvs there instead of a temporary directory (to reuse them).
    """
    config = load_config(plugin_dir)
    status = 0
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="aso-schemas-") as tmp:
        root = keep or Path(tmp)
        for index, sdk in enumerate(config.sdks):
            venv = root / f"env{index}"
            python = _venv_python(venv) if venv.exists() else create_env(venv, sdk, echo, config.requires)
            code, out, err = run_worker(python, plugin_dir.resolve(), sdk, check=check)
            lines += out.splitlines()
            if code not in (0, 1):
                raise SchemaGenError(err.strip() or f"generator exited with {code}")
            status = max(status, code)
    return status, lines
