"""The test kit's operator process: a metrics port taken between its pick and the operator's bind
(any outgoing connection takes a port from the same range) is picked again, not a failed test."""

from __future__ import annotations

import socket

import pytest

import aso.testing.operator as kit
from aso.common import free_port
from aso.testing.arm import ArmEmulatorHandle
from aso.testing.kube import KubeApi
from aso.testing.operator import OperatorProcess


def test_a_metrics_port_taken_before_the_operator_binds_it_is_picked_again(
    k8s: KubeApi,
    arm_emulator: ArmEmulatorHandle,
    aso_operator: OperatorProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        picks = iter([taken.getsockname()[1]])
        monkeypatch.setattr(kit, "free_port", lambda: next(picks, None) or free_port())
        aso_operator.start()
        assert aso_operator.running
        assert aso_operator.port != taken.getsockname()[1]
        assert aso_operator.starts == 2
