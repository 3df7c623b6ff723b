"""The rooms of aso-core stay apart (DESIGN.md). The import rules themselves are import-linter
contracts (pyproject.toml, run by `nox -s lint`); this checks what a static graph cannot: what
the emulator really has in ``sys.modules`` after it has loaded every plugin's profiles."""

from __future__ import annotations


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
