"""Resource group names: ARM's documented rule (1-90 letters, digits, '_', '-', '.', '(', ')', not
ending in '.') and its answer to a name outside it, as public reports of real ARM show it
(400 ``InvalidResourceGroup``, listing the characters it does not allow as they occur)."""

from __future__ import annotations

import pytest

from aso import ArmNameRule
from aso.testing.arm import ArmEmulatorHandle, ArmHttp

API = "2020-06-01"
ALLOWED = "The name can only be a letter, digit, '-', '.', '(', ')' or '_'."


def _group(arm: ArmEmulatorHandle, name: str) -> str:
    return f"/subscriptions/{arm.subscription_id}/resourceGroups/{name}"


@pytest.mark.parametrize(
    ("name", "invalid"), [("Create new resource group", "   "), ("bad!name", "!"), ("a*b*c", "**")]
)
def test_a_group_name_with_characters_arm_does_not_allow_is_refused(
    arm_http: ArmHttp, arm_emulator: ArmEmulatorHandle, name: str, invalid: str
) -> None:
    for method, body in (("PUT", {"location": "westus2"}), ("GET", None)):
        refused = arm_http.call(method, _group(arm_emulator, name), API, body)
        assert refused.status_code == 400
        assert refused.json()["error"] == {
            "code": "InvalidResourceGroup",
            "message": f"The provided resource group name '{name}' has these invalid characters: "
            f"'{invalid}'. {ALLOWED}",
        }
    assert arm_emulator.control.resources("Microsoft.Resources/resourceGroups") == []


@pytest.mark.parametrize("name", ["x" * 91, "ends.with.a.period."])
def test_a_group_name_too_long_or_ending_in_a_period_is_refused(
    arm_http: ArmHttp, arm_emulator: ArmEmulatorHandle, name: str
) -> None:
    refused = arm_http.call("PUT", _group(arm_emulator, name), API, {"location": "westus2"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "InvalidResourceGroup"
    assert "1 to 90 characters" in refused.json()["error"]["message"]


@pytest.mark.parametrize("name", ["x" * 90, "a", "rg.with_(all)-allowed.9", "grüße-東京"])
def test_every_name_the_rule_allows_is_taken(
    arm_http: ArmHttp, arm_emulator: ArmEmulatorHandle, name: str
) -> None:
    assert arm_http.call("PUT", _group(arm_emulator, name), API, {"location": "westus2"}).status_code == 201


def test_a_name_rule_lists_the_characters_it_does_not_allow() -> None:
    rule = ArmNameRule(
        pattern="[a-z]+", characters="[a-z]", message="'{name}': '{invalid}'", shape_message="shape"
    )
    assert rule.invalid_characters("ab-c-") == "--"
    assert rule.refusal("ab-c-") == "'ab-c-': '--'"
    assert ArmNameRule(pattern="[a-z]+").refusal("A") == "Resource name 'A' is invalid."
