"""ARM emulator profile of the test-only resource type ``Microsoft.AsoTest/widgets``.

A plugin of its own (entry point ``testkinds-arm`` of the test-only distribution metadata beside
this package) implementing only ``aso_arm_profiles``, exactly as a third party adds a profile: the
emulator finds it in the test process and in ``aso sandbox`` alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from aso import ArmAction, ArmLro, ArmProfile, hookimpl

WIDGETS = ArmProfile(
    type="Microsoft.AsoTest/widgets",
    type_name="Microsoft.AsoTest/widgets",
    put=ArmLro(mode="async", create_status=201, update_status=200, polls=1, retry_after=0),
    delete=ArmLro(mode="async", status=202, headers=("Location",), polls=1, retry_after=0),
    secrets=("primary",),
    computed={"properties": {"endpoint": "https://{name}.widgets.example"}},
    read_only=("properties.endpoint",),
    actions={"listKeys": ArmAction(response={"keys": [{"keyName": "primary", "value": "{secret.primary}"}]})},
)


@hookimpl
def aso_arm_profiles() -> Sequence[ArmProfile]:
    return [WIDGETS]
