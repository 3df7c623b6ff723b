"""Fixtures loading the hand-made SDK-style model modules beside these tests.

They are loaded by path (pytest runs with ``--import-mode=importlib``, so sibling
modules are not importable by name) and registered in ``sys.modules``, because the
generator resolves string type hints through the class's module, as in the SDK.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).resolve().parent


def _load(stem: str) -> ModuleType:
    name = f"aso_schemagen_tests_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / f"{stem}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def msrest() -> ModuleType:
    return _load("fake_msrest")


@pytest.fixture(scope="session")
def restfield() -> ModuleType:
    return _load("fake_restfield")
