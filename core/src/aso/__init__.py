"""aso: a plugin-based Azure Service Operator.

This module is the whole public API for plugin authors; everything else in ``aso`` is private
machinery. A plugin implements hooks from :mod:`aso.hookspecs` (marked with :data:`hookimpl`) and
returns :class:`ResourceKind` declarations.
"""

from aso.armprofiles import ArmAction, ArmLro, ArmNameRule, ArmProfile
from aso.errors import AsoError, PermanentError, RetryableError
from aso.extensions import ArmApi, ArmErrorInfo, Classification, Extensions, ReconcileContext
from aso.hookspecs import hookimpl
from aso.kinds import (
    GVK,
    RESOURCE_GROUP_OWNER,
    ApiVersion,
    Converter,
    Export,
    NameRule,
    OwnerKind,
    ResourceKind,
    Scope,
)

__version__ = "0.1.0"

__all__ = [
    "GVK",
    "RESOURCE_GROUP_OWNER",
    "ApiVersion",
    "ArmAction",
    "ArmApi",
    "ArmErrorInfo",
    "ArmLro",
    "ArmNameRule",
    "ArmProfile",
    "AsoError",
    "Classification",
    "Converter",
    "Export",
    "Extensions",
    "NameRule",
    "OwnerKind",
    "PermanentError",
    "ReconcileContext",
    "ResourceKind",
    "RetryableError",
    "Scope",
    "__version__",
    "hookimpl",
]
