"""ARM emulator profile of the test-only resource type ``Microsoft.AsoTest/widgets``.

Found by the emulator through the ``aso.arm_profiles`` entry point of the test-only distribution
metadata beside this package, exactly as a third party adds a profile.
"""

from __future__ import annotations

from typing import Any

PROFILES: list[dict[str, Any]] = [
    {
        "type": "Microsoft.AsoTest/widgets",
        "type_name": "Microsoft.AsoTest/widgets",
        "put": {
            "mode": "async",
            "create_status": 201,
            "update_status": 200,
            "headers": ["Azure-AsyncOperation"],
            "polls": 1,
            "retry_after": 0,
        },
        "delete": {"mode": "async", "status": 202, "headers": ["Location"], "polls": 1, "retry_after": 0},
        "secrets": ["primary"],
        "computed": {"properties": {"endpoint": "https://{name}.widgets.example"}},
        "read_only": ["properties.endpoint"],
        "actions": {
            "listKeys": {"response": {"keys": [{"keyName": "primary", "value": "{secret.primary}"}]}}
        },
    }
]
