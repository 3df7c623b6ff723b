"""Hand-made model classes in the typespec ``_RestField`` style, for the generator's unit tests.

They mimic ``_utils/model_base.py`` of newer azure-mgmt-* releases: class attributes
made by ``rest_field(name=..., visibility=[...])``, typed by the class annotations.
"""

# The spelling of the SDK is the point here (Optional/Union, "_models.X" strings, str enums).
# ruff: noqa: UP007, UP037, UP042, UP045
# mypy: disable-error-code="name-defined"

from __future__ import annotations

import datetime
import enum
import sys
from typing import Any, Optional, Union

_models = sys.modules[__name__]


class _RestField:
    def __init__(self, *, name: str | None = None, visibility: list[str] | None = None) -> None:
        self._rest_name_input = name
        self._visibility = visibility
        self._type = None


def rest_field(*, name: str | None = None, visibility: list[str] | None = None) -> Any:
    return _RestField(name=name, visibility=visibility)


class Model:
    """Stand-in for ``model_base.Model``."""


ALL = ["read", "create", "update", "delete", "query"]


class Tier(str, enum.Enum):
    HOT = "Hot"
    COOL = "Cool"


class Node(Model):
    """Recursive through ``children``.

    :ivar label: The label.
    :vartype label: str
    """

    label: Optional[str] = rest_field(visibility=ALL)
    children: Optional[list[Node]] = rest_field(visibility=ALL)


class VaultProperties(Model):
    """Flattened into the vault."""

    access_tier: Optional[Union[str, Tier]] = rest_field(name="accessTier", visibility=ALL)
    provisioning_state: Optional[str] = rest_field(name="provisioningState", visibility=["read"])
    key_id: Optional[str] = rest_field(name="keyId", visibility=ALL)
    secret_value: Optional[str] = rest_field(name="secretValue", visibility=["create", "update"])


class Resource(Model):
    """Base resource.

    :ivar id: Fully qualified resource ID.
    :vartype id: str
    """

    id: Optional[str] = rest_field(visibility=["read"])
    name: Optional[str] = rest_field(visibility=["read"])
    type: Optional[str] = rest_field(visibility=["read"])


class Vault(Resource):
    """A vault.

    :ivar location: The geo-location where the resource lives. Required.
    :vartype location: str
    :ivar size_gb: The size in GB.
    :vartype size_gb: int
    """

    location: str = rest_field(visibility=["read", "create"])
    tags: Optional[dict[str, str]] = rest_field(visibility=ALL)
    size_gb: Optional[int] = rest_field(name="sizeGB", visibility=ALL)
    ratio: Optional[float] = rest_field(visibility=ALL)
    enabled: Optional[bool] = rest_field(visibility=ALL)
    created: Optional[datetime.datetime] = rest_field(visibility=ALL)
    tiers: Optional[list[Union[str, Tier]]] = rest_field(visibility=ALL)
    extra: Optional[Any] = rest_field(visibility=ALL)
    tree: Optional[Node] = rest_field(visibility=ALL)
    properties: Optional["_models.VaultProperties"] = rest_field(visibility=ALL)
    __flattened_items = ["access_tier", "provisioning_state", "key_id", "secret_value"]
