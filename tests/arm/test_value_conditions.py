"""Value rules that hold only for some bodies (``when``) or read the parent (``of_parent``):
combinations a provider refuses, and children a parent's settings do not support."""

from __future__ import annotations

from typing import Any

from aso import ArmProfile, ArmValueRule

from .test_profiles import Raw


def test_conditions_are_profile_data_checked_at_load(arm_emulator_factory: Any) -> None:
    rule = ArmValueRule(path="properties.size", when={"properties.tier": ("basic",)}, allowed=("small",))
    assert rule.applies({"properties": {"tier": "Basic"}})
    assert not rule.applies({"properties": {"tier": "premium"}})
    assert not rule.applies({})
    bad = ArmValueRule(path="properties.size", when={"properties.tier": ()})
    assert bad.problems() == ["when['properties.tier']: expected a non-empty tuple of values"]
    assert ArmProfile(type="Contoso.Widgets/gadgets", values=(bad,)).problems() == [
        "values[0].when['properties.tier']: expected a non-empty tuple of values"
    ]

    arm = arm_emulator_factory(
        profiles=[
            {
                "type": "Contoso.Widgets/gadgets",
                "values": [
                    {"path": "properties.size", "when": {"properties.tier": ["basic"]}, "allowed": ["small"]}
                ],
            }
        ]
    )
    raw = Raw(arm)
    group = arm.resource_client().resource_groups.create_or_update("g", {"location": "westus2"}).id
    gadgets = f"{group}/providers/Contoso.Widgets/gadgets"
    body = {"properties": {"tier": "Basic", "size": "large"}}
    refused = raw.call("PUT", f"{gadgets}/a", "2024-01-01", body)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "InvalidValuesForRequestParameters"
    made = raw.call("PUT", f"{gadgets}/b", "2024-01-01", {"properties": {"tier": "premium", "size": "large"}})
    assert made.status_code in (200, 201)
