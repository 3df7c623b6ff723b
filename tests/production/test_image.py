"""The image's install commands, run as the Dockerfile runs them (its build stage's COPY, ENV and
RUN lines, with /src and /opt/aso moved into a temporary directory) in a fresh venv: the installed
``aso`` starts, lists the plugins, and carries neither the test kit nor the local backends."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "helm" / "image" / "Dockerfile"

pytestmark = pytest.mark.timeout(900)


def _build_stage() -> list[tuple[str, str]]:
    """(instruction, argument) of the first stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    stage: list[tuple[str, str]] = []
    for line in lines:
        instruction, _, argument = line.partition(" ")
        if instruction.upper() == "FROM" and stage:
            break
        stage.append((instruction.upper(), argument.strip()))
    return stage


def test_dockerfile_install_commands_give_a_working_aso(tmp_path: Path) -> None:
    stage = _build_stage()
    assert stage[0][0] == "FROM"
    moved = {"/src": str(tmp_path / "src"), "/opt/aso": str(tmp_path / "venv")}

    def move(text: str) -> str:
        for old, new in moved.items():
            text = re.sub(rf"(?<![\w/]){re.escape(old)}(?=[/\s]|$)", new, text)
        return text

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    args: dict[str, str] = {}
    ran = 0
    for instruction, argument in stage[1:]:
        if instruction == "ARG":
            name, _, default = argument.partition("=")
            args[name] = default.strip('"')
        elif instruction == "ENV":
            for pair in shlex.split(argument):
                name, _, value = pair.partition("=")
                env[name] = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], env.get(m[1], "")), value)
        elif instruction == "COPY":
            source, dest = argument.split()
            target = Path(move(dest))
            target.parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / source).is_dir():
                ignore = shutil.ignore_patterns("*.egg-info", "__pycache__", "build", ".nox")
                shutil.copytree(ROOT / source, target, ignore=ignore)
            else:
                shutil.copy2(ROOT / source, target)
        elif instruction == "RUN":
            subprocess.run(["sh", "-c", move(argument)], env=env, check=True, timeout=850)
            ran += 1
    assert ran >= 1

    venv_bin = tmp_path / "venv" / "bin"
    version = subprocess.run(
        [str(venv_bin / "aso"), "version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert version.stdout.strip()
    listed = subprocess.run(
        [str(venv_bin / "aso"), "plugins", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    plugins = json.loads(listed.stdout)
    assert "resources.azure.com" in json.dumps(plugins)
    probe = subprocess.run(
        [
            str(venv_bin / "python"),
            "-c",
            "import importlib.util as u; print(u.find_spec('aso.sandbox'), u.find_spec('aso.testing'),"
            " u.find_spec('pytest'), u.find_spec('aso.operator.app') is not None)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert probe.stdout.split() == ["None", "None", "None", "True"]
