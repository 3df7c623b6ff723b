"""Hand-made model classes in the msrest (autorest) style, for the generator's unit tests.

They mimic what azure-mgmt-* releases generate: ``_attribute_map`` with dotted
``properties.x`` keys where the SDK flattens, ``_validation``, and enums visible only
in the ``__init__`` type hints.
"""

# The spelling of the SDK is the point here (Optional/Union, "_models.X" strings, str enums).
# ruff: noqa: UP007, UP037, UP042, UP045
# mypy: disable-error-code="name-defined"

from __future__ import annotations

import enum
import sys
from typing import Any, Optional, Union

# The SDK modules refer to their models as ``_models.X`` in string hints.
_models = sys.modules[__name__]


class Model:
    """Stand-in for ``azure.mgmt.*._serialization.Model``."""

    _attribute_map: dict[str, dict[str, Any]] = {}
    _validation: dict[str, dict[str, Any]] = {}


class SkuName(str, enum.Enum):
    STANDARD_LRS = "Standard_LRS"
    PREMIUM_LRS = "Premium_LRS"


class Sku(Model):
    """The SKU.

    :ivar name: The SKU name. Required. Known values are: "Standard_LRS" and "Premium_LRS".
    :vartype name: str or ~fake.SkuName
    :ivar tier: The SKU tier, computed by the service.
    :vartype tier: str
    """

    _validation = {"name": {"required": True}, "tier": {"readonly": True}}
    _attribute_map = {"name": {"key": "name", "type": "str"}, "tier": {"key": "tier", "type": "str"}}

    def __init__(self, *, name: Union[str, "_models.SkuName"], **kwargs: Any) -> None:
        self.name = name
        self.tier = None


class ServerStatus(Model):
    """Read-only only: must vanish from spec."""

    _validation = {"state": {"readonly": True}}
    _attribute_map = {"state": {"key": "state", "type": "str"}}


class ErrorDetail(Model):
    """Recursive: details hold more details.

    :ivar code: The error code.
    :vartype code: str
    :ivar details: Nested errors.
    :vartype details: list[~fake.ErrorDetail]
    """

    _attribute_map = {
        "code": {"key": "code", "type": "str"},
        "details": {"key": "details", "type": "[ErrorDetail]"},
    }


class BackupPolicy(Model):
    """Polymorphic base: ARM tells the subtypes apart by ``type``.

    :ivar type: Describes the mode of backups. Required.
    :vartype type: str
    """

    _validation = {"type": {"required": True}}
    _attribute_map = {"type": {"key": "type", "type": "str"}}
    _subtype_map = {"type": {"Periodic": "PeriodicPolicy", "Continuous": "ContinuousPolicy"}}


class PeriodicPolicy(BackupPolicy):
    _validation = {"type": {"required": True}, "interval_minutes": {"minimum": 0}}
    _attribute_map = {
        "type": {"key": "type", "type": "str"},
        "interval_minutes": {"key": "periodicModeProperties.intervalInMinutes", "type": "int"},
    }


class ContinuousPolicy(BackupPolicy):
    _validation = {"type": {"required": True}}
    _attribute_map = {"type": {"key": "type", "type": "str"}, "tier": {"key": "tier", "type": "str"}}


class UserIdentity(Model):
    _validation = {"principal_id": {"readonly": True}, "client_id": {"readonly": True}}
    _attribute_map = {
        "principal_id": {"key": "principalId", "type": "str"},
        "client_id": {"key": "clientId", "type": "str"},
    }


class Identity(Model):
    _validation = {"principal_id": {"readonly": True}}
    _attribute_map = {
        "additional_properties": {"key": "", "type": "{object}"},
        "principal_id": {"key": "principalId", "type": "str"},
        "type": {"key": "type", "type": "str"},
        "user_assigned_identities": {"key": "userAssignedIdentities", "type": "{UserIdentity}"},
    }


class Rule(Model):
    _attribute_map = {
        "subnet_id": {"key": "id", "type": "str"},
        "action": {"key": "action", "type": "str"},
    }

    def __init__(self, *, subnet_id: str, action: Optional[Union[str, "_models.SkuName"]] = None) -> None:
        self.subnet_id = subnet_id
        self.action = action


class Server(Model):
    """A server.

    Variables are only populated by the server, and will be ignored when sending a request.

    :ivar id: Fully qualified resource ID.
    :vartype id: str
    :ivar name: The name of the resource.
    :vartype name: str
    :ivar type: The type of the resource.
    :vartype type: str
    :ivar location: The geo-location where the resource lives. Required.
    :vartype location: str
    :ivar tags: Resource tags.
    :vartype tags: dict[str, str]
    :ivar sku: The SKU of the server.
    :vartype sku: ~fake.Sku
    :ivar administrator_login: Administrator username for the server. Once created it cannot be
     changed.
    :vartype administrator_login: str
    :ivar administrator_login_password: The administrator login password.
    :vartype administrator_login_password: str
    :ivar subnet_id: The subnet the server is bound to.
    :vartype subnet_id: str
    :ivar tenant_id: The tenant.
    :vartype tenant_id: str
    :ivar version: The server version.
    :vartype version: str
    """

    _validation = {
        "id": {"readonly": True},
        "name": {"readonly": True, "required": True},
        "type": {"readonly": True},
        "location": {"required": True},
        "version": {"required": True},
        "administrator_login": {"pattern": r"^[a-z]+$", "max_length": 63, "min_length": 1},
        "capacity": {"maximum": 100, "minimum": 1},
        "zones": {"max_items": 3, "min_items": 1, "pattern": r"^\d$"},
        "fully_qualified_domain_name": {"readonly": True},
        "status": {"readonly": True},
        "kind": {"required": True, "constant": True},
    }

    _attribute_map = {
        "id": {"key": "id", "type": "str"},
        "name": {"key": "name", "type": "str"},
        "type": {"key": "type", "type": "str"},
        "etag": {"key": "etag", "type": "str"},
        "location": {"key": "location", "type": "str"},
        "tags": {"key": "tags", "type": "{str}"},
        "kind": {"key": "kind", "type": "str"},
        "sku": {"key": "sku", "type": "Sku"},
        "administrator_login": {"key": "properties.administratorLogin", "type": "str"},
        "administrator_login_password": {"key": "properties.administratorLoginPassword", "type": "str"},
        "subnet_id": {"key": "properties.subnetId", "type": "str"},
        "tenant_id": {"key": "properties.tenantId", "type": "str"},
        "version": {"key": "properties.version", "type": "str"},
        "capacity": {"key": "properties.capacity", "type": "int"},
        "ratio": {"key": "properties.ratio", "type": "float"},
        "enabled": {"key": "properties.enabled", "type": "bool"},
        "created": {"key": "properties.created", "type": "iso-8601"},
        "zones": {"key": "properties.zones", "type": "[str]"},
        "allowed_skus": {"key": "properties.allowedSkus", "type": "[str]"},
        "metadata": {"key": "properties.metadata", "type": "object"},
        "rules": {"key": "properties.rules", "type": "[Rule]"},
        "odata_type": {"key": "properties.odata\\.type", "type": "str"},
        "fully_qualified_domain_name": {"key": "properties.fullyQualifiedDomainName", "type": "str"},
        "status": {"key": "properties.status", "type": "ServerStatus"},
        "error": {"key": "properties.error", "type": "ErrorDetail"},
        "backup_policy": {"key": "properties.backupPolicy", "type": "BackupPolicy"},
        "identity": {"key": "identity", "type": "Identity"},
    }

    kind = "SqlServer"

    def __init__(
        self,
        *,
        location: str,
        tags: Optional[dict[str, str]] = None,
        sku: Optional["_models.Sku"] = None,
        allowed_skus: Optional[list[Union[str, "_models.SkuName"]]] = None,
        **kwargs: Any,
    ) -> None:
        self.location = location


class CreateMode(str, enum.Enum):
    DEFAULT = "default"
    RECOVER = "recover"


class VaultCreateOrUpdateParameters(Model):
    """The request body of a vault: ``location`` required, no ``id``/``name``/``type``.

    :ivar location: The supported Azure location. Required.
    :vartype location: str
    :ivar create_mode: The vault's create mode.
    :vartype create_mode: str or ~fake.CreateMode
    :ivar tenant_id: The tenant. Required.
    :vartype tenant_id: str
    """

    _validation = {"location": {"required": True}, "tenant_id": {"required": True}}
    _attribute_map = {
        "location": {"key": "location", "type": "str"},
        "create_mode": {"key": "properties.createMode", "type": "str"},
        "tenant_id": {"key": "properties.tenantId", "type": "str"},
        "soft_delete": {"key": "properties.enableSoftDelete", "type": "bool"},
    }

    def __init__(
        self, *, location: str, create_mode: Optional[Union[str, "_models.CreateMode"]] = None
    ) -> None:
        self.location = location
        self.create_mode = create_mode


class Vault(Model):
    """The response model of a vault: ``id``, ``name``, ``type`` read-only, ``location`` optional."""

    _validation = {"id": {"readonly": True}, "name": {"readonly": True}, "type": {"readonly": True}}
    _attribute_map = {
        "id": {"key": "id", "type": "str"},
        "name": {"key": "name", "type": "str"},
        "type": {"key": "type", "type": "str"},
        "location": {"key": "location", "type": "str"},
        "create_mode": {"key": "properties.createMode", "type": "str"},
        "tenant_id": {"key": "properties.tenantId", "type": "str"},
        "vault_uri": {"key": "properties.vaultUri", "type": "str"},
    }
