"""aso: a plugin-based Azure Service Operator.

This module is the whole public API for plugin authors; everything else in ``aso`` is private
machinery. A plugin implements hooks from :mod:`aso.hookspecs` (marked with :data:`hookimpl`) and
returns :class:`ResourceKind` declarations.
"""

from aso.armprofiles import (
    ArmAction,
    ArmBusy,
    ArmFollowUp,
    ArmLro,
    ArmNameRule,
    ArmOverride,
    ArmProfile,
    ArmRefusal,
    ArmValueRule,
    ArmVariant,
    ArmVersion,
)
from aso.errors import ArmError, AsoError, PermanentError, RetryableError, Severity
from aso.extensions import (
    ArmApi,
    ArmBody,
    ArmErrorInfo,
    Classification,
    ClassifyError,
    Delete,
    ExportValues,
    Extensions,
    Next,
    PreReconcile,
    ReconcileContext,
)
from aso.hookspecs import hookimpl
from aso.kinds import (
    GVK,
    ApiVersion,
    Converter,
    Export,
    KindVersion,
    NameRule,
    OwnerKind,
    ResourceKind,
    Scope,
)

__version__ = "0.1.0"

__all__ = [
    "GVK",
    "ApiVersion",
    "ArmAction",
    "ArmApi",
    "ArmBody",
    "ArmBusy",
    "ArmError",
    "ArmErrorInfo",
    "ArmFollowUp",
    "ArmLro",
    "ArmNameRule",
    "ArmOverride",
    "ArmProfile",
    "ArmRefusal",
    "ArmValueRule",
    "ArmVariant",
    "ArmVersion",
    "AsoError",
    "Classification",
    "ClassifyError",
    "Converter",
    "Delete",
    "Export",
    "ExportValues",
    "Extensions",
    "KindVersion",
    "NameRule",
    "Next",
    "OwnerKind",
    "PermanentError",
    "PreReconcile",
    "ReconcileContext",
    "ResourceKind",
    "RetryableError",
    "Scope",
    "Severity",
    "__version__",
    "hookimpl",
]
