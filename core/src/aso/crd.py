"""CustomResourceDefinition generation from the registered kinds (``aso crds``)."""

from __future__ import annotations

import pathlib
from typing import Any

import yaml

from aso.host import Registry
from aso.kinds import ResourceKind, storage_version_name
from aso.schemas import object_schema, strip_extensions

__all__ = ["WEBHOOK_NAMESPACE", "WEBHOOK_PATH", "WEBHOOK_SERVICE", "build_crd", "write_crds"]

WEBHOOK_SERVICE = "aso-webhook"
WEBHOOK_NAMESPACE = "aso-system"
WEBHOOK_PATH = "/convert"


def _ready(field: str) -> str:
    return f".status.conditions[?(@.type=='Ready')].{field}"


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"jsonPath": _ready("status"), "name": "Ready", "type": "string"},
    {"jsonPath": _ready("severity"), "name": "Severity", "type": "string"},
    {"jsonPath": _ready("reason"), "name": "Reason", "type": "string"},
    {"jsonPath": _ready("message"), "name": "Message", "type": "string"},
]


def _version(kind: ResourceKind, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "served": True,
        "storage": name == kind.stored_version,
        "schema": {"openAPIV3Schema": strip_extensions(object_schema(kind, name))},
        "subresources": {"status": {}},
        "additionalPrinterColumns": [dict(c) for c in PRINTER_COLUMNS],
    }


def build_crd(kind: ResourceKind) -> dict[str, Any]:
    """The apiextensions.k8s.io/v1 CRD of ``kind`` as ASO v2 shapes it: every served version, each
    followed by its storage version (served too, as ASO serves them), the hub's storage version
    stored, conversion through the webhook (every kind has at least two versions)."""
    versions = [
        _version(kind, name)
        for version in kind.versions
        for name in (version.name, storage_version_name(version.name))
    ]
    spec: dict[str, Any] = {
        "group": kind.group,
        "names": {
            "kind": kind.kind,
            "listKind": f"{kind.kind}List",
            "plural": kind.plural,
            "singular": kind.kind.lower(),
            "categories": ["azure", kind.group.split(".")[0]],
        },
        "scope": "Namespaced",
        "versions": versions,
    }
    if kind.short_names:
        spec["names"]["shortNames"] = list(kind.short_names)
    spec["conversion"] = {
        "strategy": "Webhook",
        "webhook": {
            "conversionReviewVersions": ["v1"],
            "clientConfig": {
                "service": {
                    "name": WEBHOOK_SERVICE,
                    "namespace": WEBHOOK_NAMESPACE,
                    "path": WEBHOOK_PATH,
                    "port": 443,
                }
            },
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": kind.crd_name,
            "labels": {"app.kubernetes.io/part-of": "aso"},
        },
        "spec": spec,
    }


def dump_yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=120)


def write_crds(registry: Registry, out: pathlib.Path) -> list[pathlib.Path]:
    """Write one ``<plural>.<group>.yaml`` per kind into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[pathlib.Path] = []
    for kind in registry.all_kinds():
        path = out / f"{kind.crd_name}.yaml"
        path.write_text(dump_yaml(build_crd(kind)), encoding="utf-8")
        written.append(path)
    return written
