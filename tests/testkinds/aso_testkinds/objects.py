"""Manifests of the test kinds and of ResourceGroup, for the end-to-end tests."""

from __future__ import annotations

from typing import Any

RG = ("resources.azure.com", "v1api20200601", "resourcegroups")
WIDGET = ("test.aso.dev", "v1api20240101", "widgets")


def resource_group(
    name: str, namespace: str = "default", annotations: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": f"{RG[0]}/{RG[1]}",
        "kind": "ResourceGroup",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
        "spec": {"location": "westus2", **spec},
    }


def widget(
    name: str, owner: str, namespace: str = "default", annotations: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": f"{WIDGET[0]}/{WIDGET[1]}",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
        "spec": {"owner": {"name": owner}, "location": "westus2", "size": "Small", **spec},
    }
