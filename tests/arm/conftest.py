"""Shared helpers of the ARM emulator tests (fixtures come from the ``aso.testing`` plugin)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resource.resources import ResourceManagementClient

from aso.testing.arm import ArmEmulatorHandle

from .replay import FileResult

# A type no profile (built-in or entry point) describes: the generic fallback applies.
WIDGETS = "Microsoft.ArmEmulatorTest/gizmos"
API = "2024-01-01"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_code(err: HttpResponseError) -> str | None:
    """The ARM error code of an SDK exception."""
    return err.error.code if err.error is not None else None


def props(resource: Any) -> dict[str, Any]:
    """``properties`` of a generic SDK resource (typed ``Any | None`` by the SDK)."""
    value = resource.properties
    assert isinstance(value, dict)
    return value


@pytest.fixture
def rm(arm_emulator: ArmEmulatorHandle) -> ResourceManagementClient:
    """A real ResourceManagementClient against the reset emulator."""
    client: ResourceManagementClient = arm_emulator.resource_client()
    return client


@pytest.fixture
def rg(rm: ResourceManagementClient) -> str:
    """A fresh resource group; returns its id."""
    group = rm.resource_groups.create_or_update(unique("rg"), {"location": "westus2"})
    return str(group.id)


# Replay results, summarised at the end of the run whatever the capture mode.
REPLAY_RESULTS: list[FileResult] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPLAY_RESULTS:
        return
    terminalreporter.section("ARM recording replay")
    for r in REPLAY_RESULTS:
        terminalreporter.write_line(f"{r.name}: matched {r.matched}/{r.total}")
