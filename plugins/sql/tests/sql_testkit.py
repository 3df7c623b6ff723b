"""Shared helpers of the aso-sql tests (a plain module, not a conftest, so that its name is unique
in a whole-repository run): the ASO v2 samples and the objects they refer to."""

from __future__ import annotations

import pathlib
from typing import Any

import yaml

from aso.testing import KubeApi, create, create_secret, wait_ready

#: ../shared/conformance beside the repository (CI lays shared/ beside its clone the same way).
CONFORMANCE = pathlib.Path(__file__).resolve().parents[3].parent / "shared" / "conformance"
SAMPLES = CONFORMANCE / "aso-samples" / "sql"

GROUP = "sql.azure.com"
PLURALS = {
    "Server": "servers",
    "ServersDatabase": "serversdatabases",
    "ServersAdministrator": "serversadministrators",
    "ServersFirewallRule": "serversfirewallrules",
    "ServersAzureADOnlyAuthentication": "serversazureadonlyauthentications",
}
#: Created before the children in a directory of samples (children wait for it either way).
ORDER = [
    "Server",
    "ServersAdministrator",
    "ServersAzureADOnlyAuthentication",
    "ServersDatabase",
    "ServersFirewallRule",
]
#: What the samples refer to without shipping it: the Secrets and ConfigMaps of ASO's sample setup.
SECRETS = {
    "aso-sample-sqlsecret": {"adminPassword": "S3cret-sample-Passw0rd"},
    "sql-aadonly-password": {"password": "Temp0rary-admin-Passw0rd"},
}
TENANT = "00000000-0000-0000-0000-00000000aaaa"
CONFIG_MAPS = {
    "sql-admin-mi-config": {
        "name": "aso-sample-sql-admin-mi",
        "principalId": "11111111-2222-3333-4444-555555555555",
        "tenantId": TENANT,
    },
    "aaduserconfig": {"sid": "66666666-7777-8888-9999-000000000000", "tenantid": TENANT},
    "sql-aadonly-admin-config": {"principalId": "12121212-3434-5656-7878-909090909090", "tenantId": TENANT},
}


def which(kind: str, version: str) -> tuple[str, str, str]:
    return (GROUP, version, PLURALS[kind])


def load(path: pathlib.Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def apply_strict(k8s: KubeApi, obj: dict[str, Any]) -> dict[str, Any]:
    """Create as ``kubectl apply --validate=strict`` would: an unknown field is an error."""
    group, version = obj["apiVersion"].split("/")
    namespace = obj["metadata"].get("namespace", "default")
    plural = PLURALS.get(obj["kind"]) or obj["kind"].lower() + "s"
    created: dict[str, Any] = k8s.custom.create_namespaced_custom_object(
        group, version, namespace, plural, obj, field_validation="Strict"
    )
    return created


def create_config_map(k8s: KubeApi, name: str, data: dict[str, str], namespace: str = "default") -> None:
    k8s.core.create_namespaced_config_map(
        namespace, {"metadata": {"name": name, "namespace": namespace}, "data": data}
    )


def create_sample_prerequisites(k8s: KubeApi, location: str = "westus2") -> None:
    """The resource group the samples own their servers by, and their Secrets and ConfigMaps."""
    for name, data in SECRETS.items():
        create_secret(k8s, name, "default", data)
    for name, config in CONFIG_MAPS.items():
        create_config_map(k8s, name, config)
    create(
        k8s,
        {
            "apiVersion": "resources.azure.com/v1api20200601",
            "kind": "ResourceGroup",
            "metadata": {"name": "aso-sample-rg", "namespace": "default"},
            "spec": {"location": location},
        },
        plural="resourcegroups",
    )
    wait_ready(k8s, ("resources.azure.com", "v1api20200601", "resourcegroups"), "aso-sample-rg", timeout=60)
