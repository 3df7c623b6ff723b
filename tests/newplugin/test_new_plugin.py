"""``aso new-plugin`` as a third-party author uses it: generate a plugin outside the repository,
install it into a fresh venv next to core, and run its generated end-to-end test green."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ARGS = [
    "managedidentity",
    "--group=managedidentity.azure.com",
    "--kind=UserAssignedIdentity",
    "--arm-type=Microsoft.ManagedIdentity/userAssignedIdentities",
    "--api-version=2023-01-31",
    "--sdk=azure-mgmt-msi==7.0.0",
    "--model=azure.mgmt.msi.v2023_01_31.models.Identity",
]


# A child kind of it (owner: the identity), made the same way.
CHILD_ARGS = [
    "fic",
    "--group=managedidentity.azure.com",
    "--kind=FederatedIdentityCredential",
    "--arm-type=Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    "--api-version=2023-01-31",
    "--sdk=azure-mgmt-msi==7.0.0",
    "--model=azure.mgmt.msi.v2023_01_31.models.FederatedIdentityCredential",
    "--owner=managedidentity.azure.com/UserAssignedIdentity",
]


def run(*command: str | Path, cwd: Path, timeout: float = 600) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def line_count(*paths: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in paths)


@pytest.mark.timeout(1200)
def test_a_generated_plugin_installs_and_its_test_passes(tmp_path: Path) -> None:
    assert not tmp_path.is_relative_to(ROOT)
    run(sys.executable, "-m", "aso", "new-plugin", *ARGS, cwd=tmp_path)
    run(sys.executable, "-m", "aso", "new-plugin", *CHILD_ARGS, cwd=tmp_path)
    plugin, child = tmp_path / "aso-managedidentity", tmp_path / "aso-fic"
    package = plugin / "src" / "aso_managedidentity"
    code = [plugin / "pyproject.toml", plugin / "schemagen.yaml", *package.glob("*.py")]
    test = plugin / "tests" / "test_userassignedidentity.py"
    assert line_count(*code) <= 60
    assert line_count(test) <= 40
    assert (package / "schemas" / "userassignedidentity.v1api20230131.json").is_file()

    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    uv = shutil.which("uv")
    if uv:
        run(uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=tmp_path)
        run(uv, "pip", "install", "--quiet", "--python", python, "-e", f"{ROOT / 'core'}[testing]",
            "-e", f"{plugin}[test]", "-e", f"{child}[test]", cwd=tmp_path)  # fmt: skip
    else:
        run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
        run(python, "-m", "pip", "install", "-q", "-e", f"{ROOT / 'core'}[testing]", "-e", f"{plugin}[test]",
            "-e", f"{child}[test]", cwd=tmp_path)  # fmt: skip
    listing = run(venv / "bin" / "aso", "plugins", cwd=tmp_path)
    assert "UserAssignedIdentity" in listing
    assert "FederatedIdentityCredential" in listing
    assert "1 passed" in run(venv / "bin" / "pytest", "-q", "-p", "no:cacheprovider", plugin, cwd=plugin)
    assert "1 passed" in run(venv / "bin" / "pytest", "-q", "-p", "no:cacheprovider", child, cwd=child)
    print(f"generated plugin: code+config {line_count(*code)} lines, test {line_count(test)} lines")
