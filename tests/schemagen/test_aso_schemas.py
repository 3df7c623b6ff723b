"""``aso schemas`` end to end: a throwaway venv gets the pinned SDK release, the generator runs in it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_resources_plugin_schemas_are_what_the_pinned_sdk_generates(tmp_path: Path) -> None:
    plugin = tmp_path / "resources"
    shutil.copytree(ROOT / "plugins" / "resources", plugin, ignore=shutil.ignore_patterns("*.egg-info"))
    schemas = plugin / "src" / "aso_resources" / "schemas"
    committed = {p.name: p.read_text() for p in schemas.iterdir()}
    for path in schemas.iterdir():
        path.unlink()
    done = subprocess.run(
        [sys.executable, "-m", "aso", "schemas", str(plugin)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert "azure-mgmt-resource==23.1.1" in done.stdout  # installed into the throwaway venv
    assert {p.name: p.read_text() for p in schemas.iterdir()} == committed
    assert json.loads(committed["resourcegroup.v1api20200601.json"])["source"].startswith(
        "azure-mgmt-resource==23.1.1 "
    )
    check = subprocess.run(
        [sys.executable, "-m", "aso", "schemas", "--check", str(plugin)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
