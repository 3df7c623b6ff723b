"""Optional reconcile-time extensions of a kind, in middleware style.

Each extension is a callable taking ``(ctx, next)``: ``ctx`` describes the object being reconciled and
gives access to ARM; ``next`` runs the default behaviour (and any inner extension) and returns its
result. An extension may act before or after calling ``next``, change its result, or not call it at
all. Extensions raise :class:`aso.RetryableError` or :class:`aso.PermanentError` to stop a reconcile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    from aso.kinds import ApiVersion, ResourceKind

__all__ = [
    "ArmApi",
    "ArmErrorInfo",
    "Classification",
    "Extensions",
    "ReconcileContext",
]

T = TypeVar("T")


class ArmApi(Protocol):
    """The ARM calls an extension may make, authenticated and rate limited by the core."""

    async def get(self, arm_id: str, api_version: str) -> dict[str, Any] | None:
        """GET a resource; None when ARM answers 404."""
        ...

    async def post(
        self, arm_id: str, action: str, api_version: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST ``{arm_id}/{action}`` (e.g. ``listKeys``) and return the JSON response."""
        ...


class ReconcileContext(Protocol):
    """What an extension sees of the object being reconciled."""

    kind: ResourceKind
    #: The version the object was written in; its ``arm_api_version`` is used for requests.
    api_version: ApiVersion
    namespace: str
    name: str
    #: The object as stored (hub version), read-only.
    body: Mapping[str, Any]
    #: Full ARM id of the resource.
    arm_id: str
    arm: ArmApi
    log: logging.Logger | logging.LoggerAdapter[logging.Logger]


@dataclass(frozen=True, kw_only=True)
class ArmErrorInfo:
    """An error answered by ARM (or a transport failure, status 0) to classify."""

    status: int
    code: str
    message: str
    retry_after: float | None = None


@dataclass(frozen=True, kw_only=True)
class Classification:
    """Whether an ARM error can heal by itself (retry, Warning) or needs the user (Error)."""

    retry: bool
    severity: Literal["Warning", "Error"]
    reason: str
    delay: float | None = None


Next = Callable[[], Awaitable[T]]
#: Runs before any ARM write; raise to block the reconcile (e.g. a prerequisite not yet met).
PreReconcile = Callable[["ReconcileContext", Next[None]], Awaitable[None]]
#: Builds the ARM PUT body; ``next`` returns the generic body built from ``spec``.
ArmBody = Callable[["ReconcileContext", Next[dict[str, Any]]], Awaitable[dict[str, Any]]]
#: Computes exported values (export name -> value); ``next`` evaluates the declared ``Export``s.
ExportValues = Callable[["ReconcileContext", Next[dict[str, str]]], Awaitable[dict[str, str]]]
#: Deletes the resource in ARM; ``next`` is the generic DELETE-and-wait.
Delete = Callable[["ReconcileContext", Next[None]], Awaitable[None]]
#: Classifies an ARM error; synchronous, ``next`` is the generic classification.
ClassifyError = Callable[[ArmErrorInfo, Callable[[], Classification]], Classification]


@dataclass(frozen=True, kw_only=True)
class Extensions:
    """The extension points of a kind; each is optional and defaults to the generic behaviour."""

    pre_reconcile: PreReconcile | None = None
    arm_body: ArmBody | None = None
    export_values: ExportValues | None = None
    delete: Delete | None = None
    classify_error: ClassifyError | None = None
