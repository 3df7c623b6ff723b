"""Provider profiles: per resource type, how the emulated resource provider behaves.

A profile is plain data (YAML files in ``profile_data/`` for the built-in catalogue, or
:class:`aso.ArmProfile` values a plugin returns from the hook ``aso_arm_profiles``). It says:

- how PUT/PATCH/DELETE complete: synchronously or as a long-running operation (status codes,
  which of ``Azure-AsyncOperation``/``Location`` headers, number of polls, delay, Retry-After);
- server-defaulted fields (``defaults``, re-applied when a PUT leaves them out), read-only
  fields generated once at creation (``computed``), values always set (``set``), write-only
  secrets (``write_only``), read-only input that is ignored (``read_only``);
- normalisation of values as the provider returns them (``normalise``);
- name rules, global name uniqueness and immutable properties;
- POST actions such as ``listKeys`` / ``regenerateKey`` (``actions``) and generated secrets
  (``secrets``).

Any type without a profile gets :data:`GENERIC`, ARM's generic resource: synchronous PUT that
echoes the body (no invented ``provisioningState``), its type spelled as its parent's is declared.
A profile's ``versions`` and ``variants`` (:meth:`aso.ArmProfile.resolve`) change it per API
version and per body (``kind``).

Plugins' profiles are loaded through :func:`aso.armprofiles.load_plugin_profiles` (the plugin
discovery of :mod:`aso.discovery`, never the operator's host) and validated there; a broken one is
skipped with one log line naming the plugin, the type and the field.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from importlib import resources
from typing import Any, TypeVar

import yaml

from aso.armprofiles import (
    ArmAction,
    ArmBusy,
    ArmFollowUp,
    ArmLro,
    ArmNameRule,
    ArmProfile,
    ArmValueRule,
    ArmVariant,
    ArmVersion,
    load_plugin_profiles,
)

log = logging.getLogger(__name__)

# Display names ARM uses for regions; providers that normalise `location` answer with these.
REGION_DISPLAY_NAMES: dict[str, str] = {
    "eastus": "East US",
    "eastus2": "East US 2",
    "westus": "West US",
    "westus2": "West US 2",
    "westus3": "West US 3",
    "centralus": "Central US",
    "northcentralus": "North Central US",
    "southcentralus": "South Central US",
    "westcentralus": "West Central US",
    "northeurope": "North Europe",
    "westeurope": "West Europe",
    "uksouth": "UK South",
    "ukwest": "UK West",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "swedencentral": "Sweden Central",
    "switzerlandnorth": "Switzerland North",
    "norwayeast": "Norway East",
    "eastasia": "East Asia",
    "southeastasia": "Southeast Asia",
    "japaneast": "Japan East",
    "japanwest": "Japan West",
    "koreacentral": "Korea Central",
    "australiaeast": "Australia East",
    "australiasoutheast": "Australia Southeast",
    "centralindia": "Central India",
    "canadacentral": "Canada Central",
    "canadaeast": "Canada East",
    "brazilsouth": "Brazil South",
    "southafricanorth": "South Africa North",
    "uaenorth": "UAE North",
    "uaecentral": "UAE Central",
    "australiacentral": "Australia Central",
    "australiacentral2": "Australia Central 2",
    "brazilsoutheast": "Brazil Southeast",
    "francesouth": "France South",
    "germanynorth": "Germany North",
    "israelcentral": "Israel Central",
    "italynorth": "Italy North",
    "jioindiacentral": "Jio India Central",
    "jioindiawest": "Jio India West",
    "koreasouth": "Korea South",
    "mexicocentral": "Mexico Central",
    "newzealandnorth": "New Zealand North",
    "norwaywest": "Norway West",
    "polandcentral": "Poland Central",
    "qatarcentral": "Qatar Central",
    "southafricawest": "South Africa West",
    "southindia": "South India",
    "spaincentral": "Spain Central",
    "swedensouth": "Sweden South",
    "switzerlandwest": "Switzerland West",
    "westindia": "West India",
    "centraluseuap": "Central US EUAP",
    "eastus2euap": "East US 2 EUAP",
}

#: Each region's pair for cross-region replication, as Azure documents them ("Azure paired
#: regions"): where geo-redundant copies go by default (SQL's ``defaultSecondaryLocation``).
#: Mostly both ways; West US 3, Brazil South and West India pair one way only.
REGION_PAIRS: dict[str, str] = {
    "eastus": "westus",
    "westus": "eastus",
    "eastus2": "centralus",
    "centralus": "eastus2",
    "westus2": "westcentralus",
    "westcentralus": "westus2",
    "westus3": "eastus",
    "northcentralus": "southcentralus",
    "southcentralus": "northcentralus",
    "brazilsouth": "southcentralus",
    "canadacentral": "canadaeast",
    "canadaeast": "canadacentral",
    "northeurope": "westeurope",
    "westeurope": "northeurope",
    "uksouth": "ukwest",
    "ukwest": "uksouth",
    "francecentral": "francesouth",
    "francesouth": "francecentral",
    "germanywestcentral": "germanynorth",
    "germanynorth": "germanywestcentral",
    "norwayeast": "norwaywest",
    "norwaywest": "norwayeast",
    "switzerlandnorth": "switzerlandwest",
    "switzerlandwest": "switzerlandnorth",
    "swedencentral": "swedensouth",
    "swedensouth": "swedencentral",
    "eastasia": "southeastasia",
    "southeastasia": "eastasia",
    "japaneast": "japanwest",
    "japanwest": "japaneast",
    "koreacentral": "koreasouth",
    "koreasouth": "koreacentral",
    "australiaeast": "australiasoutheast",
    "australiasoutheast": "australiaeast",
    "australiacentral": "australiacentral2",
    "australiacentral2": "australiacentral",
    "centralindia": "southindia",
    "southindia": "centralindia",
    "westindia": "southindia",
    "southafricanorth": "southafricawest",
    "southafricawest": "southafricanorth",
    "uaenorth": "uaecentral",
    "uaecentral": "uaenorth",
}

#: Where a resource may live besides a region: ``global`` (DNS zones, Front Door, Cosmos DB
#: role definitions and the like).
NON_REGIONAL_LOCATIONS = frozenset({"global"})


def region_key(location: str) -> str:
    """Compare regions the way ARM does: ``West US 2`` and ``westus2`` are the same region."""
    return location.replace(" ", "").lower()


def known_location(location: str) -> bool:
    """A region ARM knows (by name or display name, any casing) or a non-regional location."""
    key = region_key(location)
    return key in REGION_DISPLAY_NAMES or key in NON_REGIONAL_LOCATIONS


# The profile types are public data of the plugin contract (``aso.ArmProfile`` & co.); the
# emulator's own names for them are kept here.
LroSpec = ArmLro
ActionSpec = ArmAction
Profile = ArmProfile

SYNC_PUT = LroSpec()
SYNC_DELETE = LroSpec(status=200)


# Applies to every type whose profile says nothing else about ``location``.
DEFAULT_LOCATION_RULE = (
    400,
    "InvalidResourceLocation",
    "The resource '{name}' already exists in location '{old}' in resource group '{resourceGroup}'. "
    "A resource with the same name cannot be created in location '{new}'. Please select a new resource name.",
)

# ARM's generic resource: synchronous, echoes what it was sent, invents no provisioningState.
GENERIC = Profile(type="*", source="generic", provisioning_state=False)


def _lro(data: Mapping[str, Any] | None, base: LroSpec) -> LroSpec:
    if not data:
        return base
    values = dict(data)
    if "headers" in values:
        values["headers"] = tuple(values["headers"])
    return replace(base, **values)


_OVERRIDE_KEYS = {
    "put",
    "patch",
    "delete",
    "defaults",
    "computed",
    "set",
    "normalise",
    "read_only",
    "omit",
    "after_delete",
}


def _value_rule(data: Mapping[str, Any]) -> ArmValueRule:
    """An :class:`ArmValueRule` from its plain-data form (lists become tuples)."""
    return ArmValueRule(
        **{
            **data,
            "allowed": tuple(data.get("allowed") or ()),
            "when": {k: tuple(w) for k, w in (data.get("when") or {}).items()},
            "present": tuple(data.get("present") or ()),
            "ancestor_has": dict(data.get("ancestor_has") or {}),
        }
    )


def _override(data: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of an :class:`ArmOverride` from its plain-data form; an LRO spec is
    relative to the profile's own (``put: {mode: sync}`` changes only the mode)."""
    unknown = set(data) - _OVERRIDE_KEYS - {"since", "until", "when", "present"}
    if unknown:
        raise ValueError(f"override: unknown keys {sorted(unknown)}")
    out: dict[str, Any] = {}
    for name in ("put", "patch", "delete"):
        if data.get(name):
            out[name] = _lro(data[name], base[name])
    for name in ("defaults", "computed", "set", "normalise"):
        if data.get(name):
            out[name] = dict(data[name])
    for name in ("read_only", "omit"):
        if data.get(name):
            out[name] = tuple(data[name])
    if data.get("after_delete"):
        out["after_delete"] = ArmFollowUp(**data["after_delete"])
    return out


def profile_from_mapping(data: Mapping[str, Any], source: str = "builtin") -> Profile:
    """Build a :class:`Profile` from its plain-data form (see the YAML files in ``profile_data/``)."""
    d = dict(data)
    unknown = (
        set(d)
        - {f for f in Profile.__dataclass_fields__}
        - {
            "name_rule",
            "globally_unique",
            "immutable",
            "delete_blocked",
            "after_delete",
            "versions",
            "variants",
            "busy",
            "values",
            "refusals",
            "not_found",
        }
    )
    if unknown:
        raise ValueError(f"profile {d.get('type')!r}: unknown keys {sorted(unknown)}")
    kwargs: dict[str, Any] = {"type": d["type"], "source": source}
    if "type_name" in d:
        kwargs["type_name"] = d["type_name"]
    if "orphan_error" in d:
        o = d["orphan_error"]
        kwargs["orphan_error"] = {"*": o} if isinstance(o, str) else dict(o)
    kwargs["put"] = _lro(d.get("put"), SYNC_PUT)
    kwargs["patch"] = _lro(d.get("patch"), LroSpec(create_status=200))
    kwargs["delete"] = _lro(d.get("delete"), SYNC_DELETE)
    for name in ("provisioning_state",):
        if name in d:
            kwargs[name] = bool(d[name])
    for name in ("defaults", "computed", "set", "normalise"):
        if name in d:
            kwargs[name] = dict(d[name] or {})
    for name in (
        "read_only",
        "write_only",
        "secrets",
        "delete_blocked_by_children",
        "delete_blocked_by_references",
    ):
        if name in d:
            kwargs[name] = tuple(d[name] or ())
    if d.get("name_rule"):
        kwargs["name_rule"] = ArmNameRule(**d["name_rule"])
    if d.get("versions"):
        kwargs["versions"] = tuple(
            ArmVersion(since=v.get("since"), until=v.get("until"), **_override(v, kwargs))
            for v in d["versions"]
        )
    if d.get("variants"):
        kwargs["variants"] = tuple(
            ArmVariant(
                when=dict(v.get("when") or {}), present=tuple(v.get("present") or ()), **_override(v, kwargs)
            )
            for v in d["variants"]
        )
    if "omit" in d:
        kwargs["omit"] = tuple(d["omit"] or ())
    if "parent_missing_error" in d:
        o = d["parent_missing_error"]
        kwargs["parent_missing_error"] = {"*": o} if isinstance(o, str) else dict(o)
    if d.get("not_found"):
        kwargs["not_found"] = (d["not_found"]["code"], d["not_found"]["message"])
    # ``refusals`` is the older key of the combination rules (read into ``values`` by ArmProfile).
    for name in ("values", "refusals"):
        if d.get(name):
            kwargs[name] = tuple(_value_rule(r) for r in d[name])
    if d.get("busy"):
        kwargs["busy"] = ArmBusy(**d["busy"])
    if d.get("after_delete"):
        kwargs["after_delete"] = ArmFollowUp(**d["after_delete"])
    if d.get("globally_unique"):
        g = d["globally_unique"]
        kwargs["globally_unique"] = (g["code"], int(g.get("status", 409)), g["message"])
    if d.get("delete_blocked"):
        b = d["delete_blocked"]
        kwargs["delete_blocked"] = (int(b.get("status", 400)), b["code"], b["message"])
    if d.get("immutable"):
        kwargs["immutable"] = {
            path: (int(v.get("status", 400)), v["code"], v["message"]) for path, v in d["immutable"].items()
        }
    if d.get("actions"):
        kwargs["actions"] = {
            name.lower(): ActionSpec(
                response=spec.get("response"),
                regenerate=spec.get("regenerate"),
                regenerate_map=dict(spec.get("regenerate_map") or {}),
            )
            for name, spec in d["actions"].items()
        }
    return Profile(**kwargs)


_O = TypeVar("_O", ArmVersion, ArmVariant)


def _without_lro(override: _O, method: str) -> _O:
    if method == "put":
        return replace(override, put=None)
    if method == "patch":
        return replace(override, patch=None)
    return replace(override, delete=None)


class ProfileRegistry:
    """Profiles by lower-cased type; third-party profiles override built-in ones of the same type."""

    def __init__(self, profiles: Iterable[Profile] = ()) -> None:
        self._by_type: dict[str, Profile] = {}
        for p in profiles:
            self.add(p)

    def add(self, profile: Profile) -> None:
        self._by_type[profile.type.lower()] = profile

    def get(self, full_type: str) -> Profile:
        return self._by_type.get(full_type.lower(), GENERIC)

    def find(self, full_type: str) -> Profile | None:
        """The profile of a type, or None when the type is generic."""
        return self._by_type.get(full_type.lower())

    def all(self) -> list[Profile]:
        return list(self._by_type.values())

    def override_lro(self, full_type: str, method: str, spec: LroSpec) -> None:
        """Change how ``method`` completes for a type at run time (control API)."""
        base = self.get(full_type)
        if base is GENERIC:
            # A type made asynchronous at run time reports its provisioningState.
            base = replace(GENERIC, type=full_type, source="runtime", provisioning_state=True)
        m = method.lower()
        if m not in ("put", "patch", "delete"):
            raise ValueError(f"no LRO settings for method {method!r}")
        # A run-time setting wins over every version and variant.
        base = replace(
            base,
            versions=tuple(_without_lro(v, m) for v in base.versions),
            variants=tuple(_without_lro(v, m) for v in base.variants),
        )
        if m == "put":
            self.add(replace(base, put=spec))
        elif m == "patch":
            self.add(replace(base, patch=spec))
        elif m == "delete":
            self.add(replace(base, delete=spec))
        else:
            raise ValueError(f"no LRO settings for method {method!r}")


def builtin_profiles() -> list[Profile]:
    out: list[Profile] = []
    folder = resources.files("aso.sandbox.arm.profile_data")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            doc = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
            out += [profile_from_mapping(p, source=f"builtin:{entry.name}") for p in doc.get("profiles", [])]
    return out


def plugin_profiles(extra_plugins: Iterable[tuple[str, object]] = ()) -> list[Profile]:
    """The installed plugins' ``aso_arm_profiles`` (valid ones; problems are logged by the loader)."""
    return load_plugin_profiles(extra_plugins).profiles


def default_registry(extra: Iterable[Mapping[str, Any]] = ()) -> ProfileRegistry:
    reg = ProfileRegistry(builtin_profiles())
    for p in plugin_profiles():
        reg.add(p)
    for m in extra:
        reg.add(profile_from_mapping(m, source="config"))
    return reg


def name_matches(rule: ArmNameRule, name: str) -> bool:
    return rule.problem(name) is None
