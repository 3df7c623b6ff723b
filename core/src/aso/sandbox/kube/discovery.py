"""Discovery documents (``/api``, ``/apis``, group and group-version resource lists), legacy format.

Clients asking for aggregated discovery (``as=APIGroupDiscoveryList``) get these documents with
``Content-Type: application/json`` and fall back to per-group requests, as with older servers.
"""

from __future__ import annotations

import re
from typing import Any

from .model import ResourceType

Json = dict[str, Any]

_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key matching Kubernetes: GA before beta before alpha, higher first; others alphabetical last."""
    match = _KUBE_VERSION.match(version)
    if not match:
        return (3, 0, 0, version)
    major = int(match.group(1))
    stage = {None: 0, "beta": 1, "alpha": 2}[match.group(2)]
    minor = int(match.group(3) or 0)
    return (stage, -major, -minor, "")


def group_versions(types: list[ResourceType]) -> list[str]:
    names = {v.name for rt in types for v in rt.served_versions}
    return sorted(names, key=version_priority)


def api_versions(server_address: str) -> Json:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group(name: str, types: list[ResourceType]) -> Json:
    versions = [{"groupVersion": f"{name}/{v}", "version": v} for v in group_versions(types)]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": versions,
        "preferredVersion": versions[0],
    }


def api_group_list(groups: dict[str, list[ResourceType]]) -> Json:
    listed = [
        {k: v for k, v in api_group(name, types).items() if k not in ("kind", "apiVersion")}
        for name, types in sorted(groups.items())
        if name and group_versions(types)
    ]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": listed}


def resource_list(group: str, version: str, types: list[ResourceType]) -> Json:
    resources: list[Json] = []
    for rt in sorted(types, key=lambda t: t.plural):
        served = rt.version(version)
        if served is None:
            continue
        entry: Json = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": list(rt.verbs),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        if served.status_subresource:
            resources.append(
                {
                    "name": f"{rt.plural}/status",
                    "singularName": "",
                    "namespaced": rt.namespaced,
                    "kind": rt.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        if served.scale is not None:
            resources.append(
                {
                    "name": f"{rt.plural}/scale",
                    "singularName": "",
                    "namespaced": rt.namespaced,
                    "group": "autoscaling",
                    "version": "v1",
                    "kind": "Scale",
                    "verbs": ["get", "patch", "update"],
                }
            )
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
