"""Shared helpers of the ARM emulator tests (fixtures come from the ``aso.testing`` plugin)."""

from __future__ import annotations

import uuid

import pytest

from aso.testing.arm import ArmEmulatorHandle

# A type no profile (built-in or entry point) describes: the generic fallback applies.
WIDGETS = "Microsoft.ArmEmulatorTest/gizmos"
API = "2024-01-01"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def rm(arm_emulator: ArmEmulatorHandle):  # type: ignore[no-untyped-def]
    """A real ResourceManagementClient against the reset emulator."""
    return arm_emulator.resource_client()


@pytest.fixture
def rg(rm, arm_emulator: ArmEmulatorHandle) -> str:  # type: ignore[no-untyped-def]
    """A fresh resource group; returns its id."""
    group = rm.resource_groups.create_or_update(unique("rg"), {"location": "westus2"})
    return str(group.id)


# Replay results, summarised at the end of the run whatever the capture mode.
REPLAY_RESULTS: list = []  # list[replay.FileResult]


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if not REPLAY_RESULTS:
        return
    terminalreporter.section("ARM recording replay")
    for r in REPLAY_RESULTS:
        terminalreporter.write_line(f"{r.name}: matched {r.matched}/{r.total}")
