"""pytest plugin entry point (``pytest11: aso``): collects the fixtures of the test kit.

aso-core registers it for every pytest run; without the kit's dependencies
(``pip install 'aso-core[testing]'``) it stays out of the way instead of breaking the run.
"""

from __future__ import annotations

import importlib.util

_MISSING = [name for name in ("kubernetes",) if importlib.util.find_spec(name) is None]

pytest_plugins = [] if _MISSING else ["aso.testing.arm", "aso.testing.kube", "aso.testing.operator"]


def pytest_report_header() -> list[str]:
    if _MISSING:
        return [f"aso.testing: fixtures off, {', '.join(_MISSING)} missing: pip install 'aso-core[testing]'"]
    return []
