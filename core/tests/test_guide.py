"""Every code block of the plugin author guide (shipped as aso/docs/plugin-guide.md) runs.

``python`` blocks run in order in one namespace (a block may use what an earlier one defined);
a ``python`` or ``yaml`` block whose first line is ``# file: PATH`` is written to a scratch
project instead and used there (pytest runs the test files, ``schemagen.yaml`` is loaded);
``toml`` blocks are parsed; ``sh`` blocks run line by line in the scratch project.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from aso.docs import guide

BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
BIN = Path(sys.executable).parent


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(guide()) if lang == language]


def file_blocks(language: str) -> dict[str, str]:
    found = {}
    for body in blocks(language):
        first, _, rest = body.partition("\n")
        if first.startswith("# file: "):
            found[first.removeprefix("# file: ").strip()] = rest
    return found


def test_the_guide_ships_and_has_every_language_checked() -> None:
    languages = {lang for lang, _ in BLOCK.findall(guide())}
    assert languages <= {"python", "yaml", "toml", "sh"}, languages
    assert "python -m aso.docs" in guide()


def test_python_blocks_run_in_order() -> None:
    namespace: dict[str, object] = {"__name__": "aso_guide"}
    for body in blocks("python"):
        if not body.startswith("# file: "):
            exec(compile(body, "plugin-guide.md", "exec"), namespace)


def test_toml_blocks_parse() -> None:
    for body in blocks("toml"):
        tomllib.loads(body)


def test_schemagen_config_block_loads(tmp_path: Path) -> None:
    from aso.schemagen.config import load_config

    (tmp_path / "schemagen.yaml").write_text(file_blocks("yaml")["schemagen.yaml"])
    config = load_config(tmp_path)
    (version,) = config.versions
    assert version.status_model is not None
    assert version.facts["properties.createMode"].add_enum == ("createOrRecover",)


@pytest.mark.timeout(600)
def test_test_kit_example_passes(tmp_path: Path) -> None:
    for name, body in file_blocks("python").items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "tests"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(600)
def test_shell_blocks_run(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    for body in blocks("sh"):
        for line in body.splitlines():
            if line.strip():
                done = subprocess.run(
                    shlex.split(line), cwd=tmp_path, env=env, capture_output=True, text=True
                )
                assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
