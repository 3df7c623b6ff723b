"""Shared setup of the cross-package tests: the test-only plugin and the conformance data."""

from __future__ import annotations

import pathlib
import sys

import pytest

from aso.host import Registry, load_registry

TESTKINDS = pathlib.Path(__file__).parent / "testkinds"
if str(TESTKINDS) not in sys.path:
    sys.path.insert(0, str(TESTKINDS))

#: ../shared/conformance beside the repository (CI lays shared/ beside its clone the same way).
CONFORMANCE = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "conformance"


@pytest.fixture(scope="session")
def conformance() -> pathlib.Path:
    assert CONFORMANCE.is_dir(), f"conformance data not found at {CONFORMANCE}"
    return CONFORMANCE


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The installed plugins plus the test-only kinds, registered in-process."""
    from aso_testkinds import plugin

    return load_registry(extra_plugins=[("testkinds", plugin)])
