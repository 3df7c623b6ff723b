"""Versions: Kubernetes stores the kind's storage version (``v1api20200601storage``), which users do
not write, so every write at a served version goes through the operator's conversion webhook,
``spec.originalVersion`` names the version written last, and the operator talks to ARM with that
version's API version."""

from __future__ import annotations

from typing import Any

from aso_testkinds.objects import RG, WIDGET, resource_group, widget

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess, create, get, wait_for

GROUP = RG[0]
STORED = (GROUP, "v1api20200601storage", RG[2])
V2021 = (GROUP, "v1api20210401", RG[2])
WIDGET_STORED = (WIDGET[0], "v1api20240101storage", WIDGET[2])


def _ready(obj: dict[str, Any] | None) -> dict[str, Any]:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), {})


def _reconciled(k8s: KubeApi, name: str, generation: int) -> dict[str, Any]:
    """The stored object once the operator has made it Ready at ``generation``."""

    def check() -> dict[str, Any] | None:
        obj = get(k8s, STORED, name)
        ready = _ready(obj)
        if obj and ready.get("status") == "True" and ready.get("observedGeneration") == generation:
            return obj
        return None

    return wait_for(check, timeout=40, what=f"{name} Ready at generation {generation}")


def test_the_version_written_last_decides_the_arm_api_version(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    # A 500 for a PUT at the given api-version is consumed only if the operator uses that version.
    control = arm_emulator.control
    control.inject_fault("resourceGroups/rg-versions.*api-version=2021-04-01", method="PUT", status=500)
    aso_operator.start()
    manifest = {
        "apiVersion": f"{GROUP}/v1api20210401",
        "kind": "ResourceGroup",
        "metadata": {"name": "rg-versions", "namespace": "default"},
        "spec": {"location": "westus2", "tags": {"written": "v1api20210401"}},
    }
    create(k8s, manifest)
    stored = _reconciled(k8s, "rg-versions", 1)
    assert stored["apiVersion"] == f"{GROUP}/v1api20200601storage"
    assert stored["spec"]["originalVersion"] == "v1api20210401"
    assert control.faults() == []

    # Written again at the hub version: the hub is the original version now, and ARM hears 2020-06-01.
    control.inject_fault("resourceGroups/rg-versions.*api-version=2020-06-01", method="PUT", status=500)
    k8s.custom.patch_namespaced_custom_object(
        *RG[:2], "default", RG[2], "rg-versions", {"spec": {"tags": {"written": "v1api20200601"}}}
    )
    stored = _reconciled(k8s, "rg-versions", 2)
    assert stored["spec"]["originalVersion"] == "v1api20200601"
    assert control.faults() == []
    arm_id = stored["status"]["id"]
    assert (control.get_resource(arm_id) or {}).get("tags") == {"written": "v1api20200601"}

    # Users never see the storage version's fields at the versions they write.
    for which in (RG, V2021):
        served = get(k8s, which, "rg-versions")
        assert served is not None
        assert served["apiVersion"] == f"{GROUP}/{which[1]}"
        assert set(served["spec"]) == {"location", "tags"}
        assert "aso.dev/original-version" not in served["metadata"].get("annotations", {})


def test_fields_a_version_renames_reach_arm_from_the_version_written(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    """Widget v1api20250101 calls the hub's ``size`` ``tier`` (ARM 2025-01-01's name) and adds
    ``capacity``: a PUT at 2025-01-01 carries both, as the user wrote them."""
    aso_operator.start()
    create(k8s, resource_group("rg-widgets"))
    manifest = widget("w-2025", "rg-widgets")
    manifest["apiVersion"] = "test.aso.dev/v1api20250101"
    manifest["spec"] = {
        "owner": {"name": "rg-widgets"},
        "location": "westus2",
        "tier": "Large",
        "capacity": 3,
    }
    create(k8s, manifest)
    stored = wait_for(
        lambda: (o := get(k8s, WIDGET_STORED, "w-2025")) and _ready(o).get("status") == "True" and o,
        timeout=40,
        what="the widget Ready",
    )
    assert stored["spec"]["originalVersion"] == "v1api20250101"
    body = arm_emulator.control.get_resource(stored["status"]["id"]) or {}
    assert body.get("properties", {}).get("tier") == "Large"
    assert body.get("properties", {}).get("capacity") == 3
