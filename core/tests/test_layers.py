"""The rooms of aso-core stay apart (DESIGN.md): the operator runtime never imports the sandbox
backends, the backends never import the operator, and plugins use only the public API."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
ASO = ROOT / "core" / "src" / "aso"


def _imports(path: pathlib.Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _violations(files: list[pathlib.Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in sorted(_imports(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_operator_never_imports_the_backends_or_the_test_kit() -> None:
    files = sorted((ASO / "operator").rglob("*.py"))
    assert files
    assert _violations(files, ("aso.sandbox", "aso.testing", "aso.schemagen")) == []


def test_backends_never_import_the_operator() -> None:
    files = sorted((ASO / "sandbox").rglob("*.py"))
    assert files
    forbidden = ("aso.operator", "aso.host", "aso.crd", "aso.conversion", "aso.schemas", "aso.kinds", "kopf")
    assert _violations(files, forbidden) == []


def test_plugins_import_only_the_public_api_and_never_kopf() -> None:
    files = sorted((ROOT / "plugins").rglob("src/**/*.py"))
    assert files
    private = [f"aso.{p.stem}" for p in ASO.glob("*.py") if p.stem != "__init__"]
    private += [f"aso.{p.name}" for p in ASO.iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert _violations(files, (*private, "kopf")) == []


def test_the_emulator_loads_plugin_profiles_without_the_operator_or_the_host() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from aso.sandbox.arm.profiles import default_registry; default_registry(); "
        "print(sorted(m for m in sys.modules if m.startswith(('aso.operator', 'aso.host', 'kopf'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
