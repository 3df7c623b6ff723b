"""What ARM says about itself: cloud metadata, regions, resource providers, name availability.

These are the routes a real client calls before (or beside) touching a resource: the Azure CLI
reads ``GET /metadata/endpoints`` (without a token) when a cloud is registered, lists
``/subscriptions/{id}/locations`` and ``/providers``, and asks a provider whether a name is free
(``POST .../providers/{namespace}/checkNameAvailability``). Documents are built here from the
emulator's own endpoint and its profiles; the server only routes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .profiles import REGION_DISPLAY_NAMES, Profile, name_matches

# Geography of each region (ARM's `metadata.geographyGroup`), for the ones clients filter on.
_GEOGRAPHY = {
    "us": "US",
    "canada": "Canada",
    "brazil": "South America",
    "mexico": "Mexico",
    "europe": "Europe",
    "uk": "UK",
    "france": "Europe",
    "germany": "Europe",
    "sweden": "Europe",
    "switzerland": "Europe",
    "norway": "Europe",
    "poland": "Europe",
    "italy": "Europe",
    "spain": "Europe",
    "asia": "Asia Pacific",
    "japan": "Asia Pacific",
    "korea": "Asia Pacific",
    "australia": "Asia Pacific",
    "india": "Asia Pacific",
    "newzealand": "Asia Pacific",
    "africa": "Africa",
    "uae": "Middle East",
    "qatar": "Middle East",
    "israel": "Middle East",
}


def _geography(name: str) -> str:
    for key, group in _GEOGRAPHY.items():
        if key in name:
            return group
    return "Other"


def cloud_metadata(endpoint: str, api_version: str) -> Any:
    """``GET /metadata/endpoints``: where this cloud's services are, as the Azure CLI reads them.

    As ARM answers it: ``api-version=2015-01-01`` the old object (``loginEndpoint``,
    ``audiences``), ``2019-05-01`` a list of cloud objects, later versions (``2022-09-01``, what
    ``az cloud register --endpoint-resource-manager`` asks for) one cloud object. Every endpoint
    points at the emulator: it is its own authority and resource manager.
    """
    if api_version <= "2018-":
        return {
            "galleryEndpoint": f"{endpoint}/",
            "graphEndpoint": f"{endpoint}/",
            "portalEndpoint": f"{endpoint}/",
            "authentication": {
                "loginEndpoint": f"{endpoint}/",
                "audiences": [f"{endpoint}/", "https://management.azure.com/"],
            },
        }
    cloud = {
        "name": "AsoSandbox",
        "portal": f"{endpoint}/",
        "gallery": f"{endpoint}/",
        "graph": f"{endpoint}/",
        "microsoftGraphResourceId": f"{endpoint}/",
        "resourceManager": f"{endpoint}/",
        "authentication": {
            "loginEndpoint": f"{endpoint}/",
            "audiences": [f"{endpoint}/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": f"{endpoint}/",
        "sqlManagement": f"{endpoint}/",
        "batch": f"{endpoint}/",
        "vmImageAliasDoc": f"{endpoint}/",
        "suffixes": {
            "storage": "core.windows.net",
            "sqlServerHostname": "database.windows.net",
            "keyVaultDns": "vault.azure.net",
            "acrLoginServer": "azurecr.io",
        },
    }
    return [cloud] if api_version < "2020-" else cloud


def locations(subscription: str) -> dict[str, Any]:
    """``GET /subscriptions/{id}/locations``: every region the emulator accepts."""
    value = []
    for name, display in REGION_DISPLAY_NAMES.items():
        value.append(
            {
                "id": f"/subscriptions/{subscription}/locations/{name}",
                "name": name,
                "displayName": display,
                "regionalDisplayName": display,
                "type": "Region",
                "metadata": {
                    "regionType": "Physical",
                    "regionCategory": "Recommended" if "euap" not in name else "Other",
                    "geographyGroup": _geography(name),
                },
            }
        )
    return {"value": value}


def provider(subscription: str, namespace: str, profiles: Iterable[Profile]) -> dict[str, Any]:
    """One resource provider, registered, with the resource types the emulator profiles in it."""
    types = sorted(
        {
            (p.type_name or p.type).split("/", 1)[1]
            for p in profiles
            if p.type.split("/", 1)[0].lower() == namespace.lower()
        }
    )
    regions = sorted(REGION_DISPLAY_NAMES.values())
    return {
        "id": f"/subscriptions/{subscription}/providers/{namespace}",
        "namespace": namespace,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [{"resourceType": t, "locations": regions, "apiVersions": []} for t in types],
    }


def namespaces(profiles: Iterable[Profile], stored_types: Iterable[str]) -> list[str]:
    """Every namespace the emulator knows: profiled ones and those of stored resources."""
    found = {p.type.split("/", 1)[0] for p in profiles} | {t.split("/", 1)[0] for t in stored_types}
    return sorted(found, key=str.lower)


def check_name_availability(profile: Profile | None, name: str, taken: bool) -> dict[str, Any]:
    """A provider's answer to ``checkNameAvailability`` for one type (ARM's common shape).

    Invalid under the type's name rule: ``reason: Invalid`` (or the rule's
    ``availability_reason``: Storage says ``AccountNameInvalid``); already used by a globally unique
    type: ``reason: AlreadyExists``.
    """
    if profile is not None and profile.name_rule is not None and not name_matches(profile.name_rule, name):
        return {
            "nameAvailable": False,
            "reason": profile.name_rule.availability_reason,
            "message": profile.name_rule.refusal(name),
        }
    if taken:
        message = f"The name '{name}' is already taken."
        if profile is not None and profile.globally_unique is not None:
            message = profile.globally_unique[2].format(name=name)
        return {"nameAvailable": False, "reason": "AlreadyExists", "message": message}
    return {"nameAvailable": True}
